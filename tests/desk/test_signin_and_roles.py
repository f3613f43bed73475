"""Signing in to the web desk, sessions, CSRF, roles, and the audit of it all, over HTTP.

These need no running stack: the desk's own database holds users, sessions, tickets and
the audit log; the pages that need executions say the stack cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.review_desk import repository
from services.review_desk.app import open_tickets
from services.review_desk.settings import DATABASE_FILE, ReviewDeskSettings
from services.review_desk.tickets import Ticket, ticket_id_for
from stepstream.api.client import StepStreamClient
from stepstream.api.stack_file import StackNotRunning
from stepstream.sql.database import Database
from tests.desk.support import DeskClient, add_users, desk_server, signed_in

ARN = "arn:aws:states:local:000000000000:execution:Fulfilment:ord-1"


async def no_stack() -> StepStreamClient:
    raise StackNotRunning("no stack runs in this test")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A desk database with its users and a ticket, made once: hashing passwords is slow."""
    folder = tmp_path_factory.mktemp("desk")
    asyncio.run(_prepare(folder))
    return folder / DATABASE_FILE


@pytest.fixture
async def database(prepared: Path, tmp_path: Path) -> AsyncIterator[Database]:
    shutil.copy(prepared, tmp_path / DATABASE_FILE)
    database = await open_tickets(ReviewDeskSettings(data_dir=tmp_path))
    yield database
    await database.close()


async def _prepare(folder: Path) -> None:
    database = await open_tickets(ReviewDeskSettings(data_dir=folder))
    await add_users(database)
    async with database.transaction() as tx:
        await repository.add(
            tx,
            Ticket(
                ticket_id=ticket_id_for("WyJhcm46token-1"),
                task_token="WyJhcm46token-1",
                execution_arn=ARN,
                failed_state="BookShipment",
                review_state="WaitForHumanReview",
                error="CarrierResponseMalformed",
                cause="half a page of HTML",
                order={"orderId": "ord-1", "address": {"line1": "1 Old St"}},
                opened_at=datetime.now(UTC),
            ),
        )
    await database.close()


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[str]:
    async with desk_server(database, no_stack, tmp_path, desk_signin_attempts=3) as base:
        yield base


async def test_a_visitor_is_sent_to_sign_in_and_a_wrong_password_is_refused(desk: str) -> None:
    client = DeskClient(desk)
    try:
        page = await client.get("/")
        assert page.url.startswith(f"{desk}/signin?next=")
        refused = await client.sign_in("otto", "not the password")
        assert refused.status == 401 and "Wrong user name or password" in refused.text
        unknown = await client.sign_in("nobody", "not the password")
        assert unknown.status == 401 and "Wrong user name or password" in unknown.text
        posted = await client.post("/tickets/rv-x/claim", {}, csrf=False)
        assert posted.status == 401
    finally:
        await client.close()


async def test_sign_in_attempts_are_rate_limited_per_user(desk: str) -> None:
    client = DeskClient(desk)
    try:
        for _ in range(3):
            assert (await client.sign_in("otto", "guess")).status == 401
        limited = await client.sign_in("otto", "guess")
        assert limited.status == 429 and "Too many failed sign-ins" in limited.text
        # Even the right password waits out the window: the limit is not a hint.
        assert (await client.sign_in("otto")).status == 429
    finally:
        await client.close()


async def test_the_session_cookie_is_http_only_and_same_site_and_sign_out_ends_it(
    desk: str,
) -> None:
    client = DeskClient(desk)
    try:
        form = await client.get("/signin")
        token = form.text.split('name="signin_token" value="')[1].split('"')[0]
        async with client.session.post(
            f"{desk}/signin",
            data={"name": "otto", "password": "correct horse battery", "signin_token": token},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        queue = await client.get("/")
        assert queue.status == 200 and "Review queue" in queue.text
        await client.post("/signout", {})
        assert (await client.get("/")).url.startswith(f"{desk}/signin")
    finally:
        await client.close()


async def test_a_sign_in_form_without_its_token_is_refused(desk: str) -> None:
    client = DeskClient(desk)
    try:
        page = await client.post(
            "/signin", {"name": "otto", "password": "correct horse battery"}, csrf=False
        )
        assert page.status == 403 and "expired" in page.text
    finally:
        await client.close()


async def test_a_state_changing_request_without_the_csrf_token_is_refused(desk: str) -> None:
    ticket_id = ticket_id_for("WyJhcm46token-1")
    async with signed_in(desk, "otto") as otto:
        await otto.get("/")
        missing = await otto.post(f"/tickets/{ticket_id}/claim", {}, csrf=False)
        assert missing.status == 403 and "CSRF token is missing or wrong" in missing.text
        wrong = await otto.post(f"/tickets/{ticket_id}/claim", {"csrf_token": "forged"}, csrf=False)
        assert wrong.status == 403
        assert "nobody" in (await otto.get(f"/tickets/{ticket_id}")).text  # not claimed
        claimed = await otto.post(f"/tickets/{ticket_id}/claim", {})
        assert claimed.status == 200 and 'class="holder">otto<' in claimed.text


async def test_a_viewer_sees_but_cannot_decide_claim_stop_or_manage_users(desk: str) -> None:
    ticket_id = ticket_id_for("WyJhcm46token-1")
    async with signed_in(desk, "vera") as vera:
        assert (await vera.get("/")).status == 200
        page = await vera.get(f"/tickets/{ticket_id}")
        assert page.status == 200 and "CarrierResponseMalformed" in page.text
        assert "Send decision" not in page.text and ">Claim</button>" not in page.text
        assert "cannot be read now" in page.text  # no stack in this test
        decision = {"decision": "retry", "reason": "looks transient"}
        for path, form in [
            (f"/tickets/{ticket_id}/claim", {}),
            (f"/tickets/{ticket_id}/decide", decision),
            ("/bulk/preview", {**decision, "ticket": ticket_id}),
            ("/bulk/apply", {**decision, "ticket": ticket_id}),
            (f"/tickets/{ticket_id}/release", {}),
            ("/execution/stop", {"arn": ARN, "reason": "r"}),
            ("/execution/redrive", {"arn": ARN, "reason": "r"}),
            ("/executions/redrive/preview", {"status": "FAILED", "reason": "r"}),
            ("/executions/redrive/apply", {"arn": ARN, "reason": "r"}),
            ("/users", {"name": "eve", "role": "admin", "password": "12345678"}),
            ("/users/role", {"name": "otto", "role": "admin"}),
        ]:
            refused = await vera.post(path, form)
            assert refused.status == 403, path
            assert "vera is a viewer" in refused.text
        assert (await vera.get("/users")).status == 403


async def test_only_an_admin_manages_users(desk: str) -> None:
    async with signed_in(desk, "otto") as otto:
        assert (await otto.get("/users")).status == 403
    async with signed_in(desk, "ada") as ada:
        page = await ada.get("/users")
        assert page.status == 200 and "vera" in page.text
        bad = await ada.post("/users", {"name": "eve smith", "role": "operator", "password": "x"})
        assert bad.status == 400 and "no spaces" in bad.text
        short = await ada.post("/users", {"name": "eve", "role": "operator", "password": "x"})
        assert short.status == 400 and "at least 8 characters" in short.text
        added = await ada.post("/users", {"name": "eve", "role": "viewer", "password": "p" * 12})
        assert added.status == 200 and "eve" in added.text
        promoted = await ada.post("/users/role", {"name": "eve", "role": "operator"})
        assert promoted.status == 200
    async with signed_in(desk, "eve", "p" * 12) as eve:
        page = await eve.get(f"/tickets/{ticket_id_for('WyJhcm46token-1')}")
        assert ">Claim</button>" in page.text


async def test_sign_ins_and_user_changes_are_in_the_audit_log_and_its_export(desk: str) -> None:
    client = DeskClient(desk)
    try:
        await client.sign_in("otto", "wrong")
    finally:
        await client.close()
    async with signed_in(desk, "ada") as ada:
        await ada.get("/users")
        await ada.post("/users", {"name": "eve", "role": "viewer", "password": "p" * 12})
        exported = await ada.get("/audit?format=json")
        assert exported.status == 200
        entries = [(e["actor"], e["action"], e["subject"]) for e in json.loads(exported.text)]
        assert ("otto", "sign-in-failed", "user:otto") in entries
        assert ("ada", "sign-in", "user:ada") in entries
        assert ("ada", "add-user", "user:eve") in entries
        csv = await ada.get("/audit?format=csv")
        assert csv.text.splitlines()[0] == "at,actor,action,subject,reason,detail"
        assert "attachment" in csv.headers["Content-Disposition"]
        assert all("p" * 12 not in body for body in ada.bodies)  # no password echoed


async def test_bad_filter_input_gets_a_clear_message(desk: str) -> None:
    async with signed_in(desk, "vera") as vera:
        page = await vera.get("/?min_age=soon")
        assert page.status == 400 and "min_age must be a number of minutes" in page.text


async def test_a_claim_is_released_by_its_holder_or_an_admin_only(desk: str) -> None:
    ticket_id = ticket_id_for("WyJhcm46token-1")
    async with signed_in(desk, "otto") as otto, signed_in(desk, "olga") as olga:
        await otto.get(f"/tickets/{ticket_id}")
        await otto.post(f"/tickets/{ticket_id}/claim", {})
        await olga.get(f"/tickets/{ticket_id}")
        taken = await olga.post(f"/tickets/{ticket_id}/claim", {})
        assert taken.status == 409 and "is claimed by otto" in taken.text
        mine = await olga.post(f"/tickets/{ticket_id}/release", {})
        assert mine.status == 409 and "claimed by otto, not by olga" in mine.text
        assert (await otto.post("/users/role", {"name": "olga", "role": "admin"})).status == 403
    async with signed_in(desk, "ada") as ada:
        page = await ada.get(f"/tickets/{ticket_id}")
        assert "Release otto's claim" in page.plain
        released = await ada.post(f"/tickets/{ticket_id}/release", {})
        assert 'class="holder">nobody<' in released.text
        trail = json.loads((await ada.get(f"/audit?format=json&subject={ticket_id}")).text)
        assert [(e["actor"], e["action"]) for e in trail] == [("otto", "claim"), ("ada", "release")]
        assert trail[1]["detail"] == {"heldBy": "otto"}
