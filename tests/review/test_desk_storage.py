"""The desk's own tables on every engine it supports: users, sessions, holders, the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.review_desk import accounts, audit, repository
from services.review_desk.accounts import AccountError, Role
from stepstream.sql.database import Database

NOW = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


async def test_a_user_signs_in_with_the_password_only_and_a_session_expires(
    tickets_db: Database,
) -> None:
    async with tickets_db.transaction() as tx:
        await accounts.add_user(tx, "ada", "operator", "a long password", at=NOW)
        with pytest.raises(AccountError, match="already a user named 'ada'"):
            await accounts.add_user(tx, "ada", "viewer", "another password", at=NOW)
    async with tickets_db.transaction() as tx:
        assert await accounts.authenticate(tx, "ada", "wrong password") is None
        assert await accounts.authenticate(tx, "bob", "a long password") is None
        user = await accounts.authenticate(tx, "ada", "a long password")
        assert user is not None and user.role is Role.OPERATOR
        cookie, session = await accounts.open_session(tx, user, at=NOW)
    async with tickets_db.transaction() as tx:
        found = await accounts.find_session(tx, cookie, at=NOW + timedelta(hours=1))
        assert found is not None and found.csrf_token == session.csrf_token
        assert await accounts.find_session(tx, "forged", at=NOW) is None
        late = NOW + accounts.SESSION_LIFETIME + timedelta(seconds=1)
        assert await accounts.find_session(tx, cookie, at=late) is None
        stored = await tx.fetch_one("SELECT session_hash FROM desk_sessions")
        assert stored is None  # the expired one is gone, and only hashes were ever kept


async def test_a_ticket_is_held_by_one_operator_at_a_time(tickets_db: Database) -> None:
    async with tickets_db.transaction() as tx:
        assert await repository.hold(tx, "rv-1", "ada", at=NOW) == "ada"
        assert await repository.hold(tx, "rv-1", "bob", at=NOW) == "ada"
        assert not await repository.let_go(tx, "rv-1", "bob")
        assert await repository.holders(tx) == {"rv-1": "ada"}
        assert await repository.let_go(tx, "rv-1", "ada")
        assert await repository.hold(tx, "rv-1", "bob", at=NOW) == "bob"


async def test_the_audit_log_keeps_entries_in_order_per_subject(tickets_db: Database) -> None:
    async with tickets_db.transaction() as tx:
        for minute, (action, subject) in enumerate(
            [("claim", "rv-1"), ("sign-in", "user:ada"), ("decide", "rv-1")]
        ):
            await audit.record(
                tx,
                at=NOW + timedelta(minutes=minute),
                actor="ada",
                action=action,
                subject=subject,
                reason="why" if action == "decide" else "",
                detail={"decision": "retry"} if action == "decide" else None,
            )
    async with tickets_db.transaction() as tx:
        about = await audit.entries(tx, subject="rv-1")
        every = await audit.entries(tx)
    assert [e.action for e in about] == ["claim", "decide"]
    assert about[1].reason == "why" and about[1].detail == {"decision": "retry"}
    assert [e.action for e in every] == ["claim", "sign-in", "decide"]
    assert audit.as_csv(every).splitlines()[3].startswith("2026-04-01T09:32:00+00:00,ada,decide")
