"""`stepstream review list|show|resolve` against a running review loop (the stack's file
in the data folder points at the test's broker and store)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.cli.main import main
from services.review_desk.tickets import TicketStatus
from stepstream.messaging.kafka import KafkaSettings
from tests.review.support import (
    REVIEW_BINDINGS,
    advertise_stack,
    review_loop,
    reviewed_shipping,
    stepstream,
)


async def test_an_operator_lists_shows_and_resolves_a_ticket(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = str(tmp_path)
    async with review_loop(kafka, store_url, prefix, tmp_path) as loop:
        advertise_stack(tmp_path, kafka, store_url, prefix)
        await loop.system.register("Shipping", reviewed_shipping(), REVIEW_BINDINGS)
        arn = await loop.system.start("Shipping", "ord-9", {"orderId": "ord-9"})
        ticket = await loop.ticket_of(arn)

        code, out, _ = await stepstream(capsys, "review", "list", "--data-dir", folder)
        assert code == 0
        assert ticket.ticket_id in out and "CarrierResponseMalformed" in out and "ord-9" in out

        code, out, _ = await stepstream(
            capsys, "review", "show", ticket.ticket_id, "--json", "--data-dir", folder
        )
        shown = json.loads(out)
        assert code == 0
        assert shown["execution"]["status"] == "RUNNING"
        assert shown["execution"]["path"] == ["Ship", "WaitForHumanReview"]
        assert shown["error"] == "CarrierResponseMalformed"

        code, out, _ = await stepstream(
            capsys,
            "review",
            "resolve",
            ticket.ticket_id,
            "--decision",
            "compensate",
            "--note",
            "customer cancelled",
            "--operator",
            "ada",
            "--data-dir",
            folder,
        )
        assert code == 0
        assert json.loads(out)["status"] == "resolved"
        described = await loop.system.finished(arn)
        assert json.loads(described["input"])["orderId"] == "ord-9"
        assert described["cause"] == "undone"

        code, _, err = await stepstream(
            capsys,
            "review",
            "resolve",
            ticket.ticket_id,
            "--decision",
            "retry",
            "--reason",
            "second try",
            "--data-dir",
            folder,
        )
        assert code == 1
        assert json.loads(err)["error"] == "TicketAlreadyClosed"

        code, out, _ = await stepstream(
            capsys, "review", "list", "--all", "--json", "--data-dir", folder
        )
        listed = json.loads(out)
        assert [(t["ticketId"], t["status"], t["operator"]) for t in listed] == [
            (ticket.ticket_id, str(TicketStatus.RESOLVED), "ada")
        ]


async def test_tickets_can_be_listed_without_a_running_stack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.review_desk.app import open_tickets
    from services.review_desk.settings import ReviewDeskSettings

    await (await open_tickets(ReviewDeskSettings(data_dir=tmp_path))).close()
    code, out, _ = await stepstream(capsys, "review", "list", "--data-dir", str(tmp_path))
    assert (code, out.strip()) == (0, "no open review tickets")
    code, _, err = await stepstream(
        capsys,
        "review",
        "resolve",
        "rv-0",
        "--decision",
        "fail",
        "--reason",
        "r",
        "--data-dir",
        str(tmp_path),
    )
    assert code == 1 and "no stack runs on" in err


def test_a_decision_outside_the_three_is_refused_by_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["review", "resolve", "rv-1", "--decision", "maybe"])
    assert exited.value.code == 2
    assert "invalid choice: 'maybe'" in capsys.readouterr().err


def test_the_help_of_resolve_says_that_failing_an_order_undoes_what_was_done(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["review", "resolve", "--help"])

    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "fail: compensate (refund, release the stock, cancel the shipment)" in text
    assert "ReviewedAndFailed" in text
