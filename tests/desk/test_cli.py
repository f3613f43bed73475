"""The desk's commands: `stepstream desk add-user`, and `review resolve` with a reason,
order edits, and its batch form, against a real review loop."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from stepstream.messaging.kafka import KafkaSettings
from tests.desk.test_decisions import waiting_tickets
from tests.review.support import advertise_stack, review_loop, stepstream


async def test_users_are_added_with_a_role_and_a_hashed_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.review_desk import accounts
    from services.review_desk.app import open_tickets
    from services.review_desk.settings import ReviewDeskSettings

    folder = str(tmp_path)

    async def add(name: str, role: str, password: str) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
        return await stepstream(
            capsys, "desk", "add-user", name, "--role", role, "--password-stdin",
            "--data-dir", folder,
        )  # fmt: skip

    assert await add("ada", "admin", "a good long password") == (0, "added ada (admin)\n", "")
    code, _, err = await add("ada", "viewer", "another long one")
    assert code == 2 and "already a user named 'ada'" in err
    code, _, err = await add("bob", "operator", "short")
    assert code == 2 and "at least 8 characters" in err
    code, out, _ = await stepstream(capsys, "desk", "users", "--json", "--data-dir", folder)
    assert json.loads(out) == [{"name": "ada", "role": "admin"}]
    database = await open_tickets(ReviewDeskSettings(data_dir=tmp_path))
    try:
        async with database.transaction() as tx:
            row = await tx.fetch_one("SELECT password_hash FROM desk_users WHERE name = 'ada'")
            assert row is not None and row["password_hash"].startswith("$argon2id$")
            assert await accounts.authenticate(tx, "ada", "a good long password") is not None
    finally:
        await database.close()


async def test_review_resolve_takes_a_reason_edits_and_a_filtered_batch(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = str(tmp_path)
    async with review_loop(kafka, store_url, prefix, tmp_path, fail_first=3) as loop:
        tickets = await waiting_tickets(loop, "ord-1", "ord-2", "ord-3")
        advertise_stack(tmp_path, kafka, store_url, prefix)

        async def resolve(*argv: str) -> tuple[int, str, str]:
            return await stepstream(capsys, "review", "resolve", *argv, "--data-dir", folder)

        code, _, err = await resolve(tickets["ord-1"], "--decision", "retry", "--reason", " ")
        assert code == 2 and "--reason must say why" in err
        code, _, err = await resolve("--all", "--decision", "retry", "--reason", "r",
                                     "--edit", "address.city=Delft")  # fmt: skip
        assert code == 2 and "give exactly one ticket id" in err
        code, _, err = await resolve("--error", "X", "--decision", "retry", "--reason", "r")
        assert code == 2 and "with --all" in err
        code, _, err = await resolve(
            tickets["ord-1"], "--decision", "retry", "--reason", "r", "--edit", "amount=1"
        )
        assert code == 1 and "cannot edit 'amount'" in err

        code, out, _ = await resolve(
            tickets["ord-1"], "--decision", "retry", "--reason", "new address given",
            "--edit", "address.line1=2 New Street", "--operator", "ops",
        )  # fmt: skip
        assert code == 0 and json.loads(out)["status"] == "resolved"
        assert "taskToken" not in out
        arn = (await loop.desk.ticket(tickets["ord-1"])).execution_arn
        assert (await loop.system.finished(arn))["status"] == "SUCCEEDED"
        history = (await loop.system.client.get_execution_history(arn))["events"]
        answers = [
            json.loads(e["taskSucceededEventDetails"]["output"])
            for e in history
            if e["type"] == "TaskSucceeded"
            and "decision" in e["taskSucceededEventDetails"]["output"]
        ]
        assert answers[0]["changes"]["address"]["line1"] == "2 New Street"
        assert answers[0]["note"] == "new address given"

        batch = ("--all", "--error", "CarrierResponseMalformed", "--decision", "compensate",
                 "--reason", "carrier outage")  # fmt: skip
        code, out, _ = await resolve(*batch, "--preview")
        assert code == 0
        previewed = json.loads(out)
        assert sorted(p["ticketId"] for p in previewed) == sorted(
            [tickets["ord-2"], tickets["ord-3"]]
        )
        for order_id in ("ord-2", "ord-3"):  # a preview sends nothing
            assert (await loop.desk.ticket(tickets[order_id])).status == "open"
        code, out, _ = await resolve(*batch)
        results = json.loads(out)
        assert code == 0 and [r["ok"] for r in results] == [True, True]
        code, out, _ = await resolve(tickets["ord-1"], tickets["ord-2"], *batch[3:])
        results = {r["ticketId"]: r for r in json.loads(out)}
        assert code == 1 and not results[tickets["ord-1"]]["ok"]
        assert "already resolved" in results[tickets["ord-2"]]["message"]
