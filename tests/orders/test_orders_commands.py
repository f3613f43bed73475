"""`stepstream orders place|list|show` over a real broker, the orchestrator, fake services and
the orders view process (the stack's file in the data folder points at them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apps.cli.main import main
from services.order_view.queries import open_view, show_order
from services.order_view.settings import OrderViewSettings
from stepstream.messaging.kafka import KafkaSettings
from tests.integration.harness import eventually, running_system
from tests.orders.support import GARBLED_LINE, add_fake_services, order_view, register_fulfilment
from tests.review.support import advertise_stack, stepstream


async def viewed(settings: OrderViewSettings, order_id: str, status: str) -> dict[str, Any]:
    """The order as the view holds it, once it is in ``status`` (and, if fulfilled, has its
    receipt, which comes on a topic of its own)."""
    database = await open_view(settings)

    async def probe() -> dict[str, Any] | None:
        try:
            document = (await show_order(database, order_id)).order.to_json()
        except LookupError:
            return None
        # A fulfilled order's receipt is known from its history first (id and total); the
        # receipt event, on a topic of its own, adds the rest. Wait for the event.
        receipt = document["receipt"] or {}
        if document["status"] != status or (status == "SUCCEEDED" and "currency" not in receipt):
            return None
        return document

    try:
        found: dict[str, Any] = await eventually(probe, timeout=30)
        return found
    finally:
        await database.close()


async def test_orders_are_placed_and_followed_through_the_view(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = str(tmp_path)
    async with (
        running_system(kafka, store_url, prefix) as system,
        order_view(kafka, store_url, prefix, tmp_path) as settings,
    ):
        advertise_stack(tmp_path, kafka, store_url, prefix)
        await register_fulfilment(system)
        await add_fake_services(system)

        code, out, _ = await stepstream(
            capsys,
            "orders",
            "place",
            "--sku",
            "MUG",
            "--qty",
            "2",
            "--unit-price",
            "900",
            "--data-dir",
            folder,
        )
        assert code == 0
        placed = json.loads(out)
        assert placed["orderId"].startswith("ord-") and len(placed["orderId"]) == 12
        assert placed["executionArn"].endswith(f":Fulfilment:{placed['orderId']}")

        code, out, _ = await stepstream(
            capsys,
            "orders",
            "place",
            "--sku",
            "MUG",
            "--qty",
            "1",
            "--line1",
            GARBLED_LINE,
            "--order-id",
            "ord-garbled",
            "--data-dir",
            folder,
        )
        assert code == 0

        happy = await viewed(settings, placed["orderId"], "SUCCEEDED")
        assert happy["path"] == [
            "ChargePayment",
            "ReserveStock",
            "BookShipment",
            "EmitReceipt",
            "OrderFulfilled",
        ]
        assert happy["trackingNumber"] == f"TRK-{placed['orderId']}"
        assert (happy["receipt"]["total"], happy["receipt"]["currency"]) == (1800, "eur")
        garbled = await viewed(settings, "ord-garbled", "WAITING_REVIEW")
        assert garbled["error"] == "CarrierResponseMalformed"

        code, out, _ = await stepstream(
            capsys, "orders", "show", placed["orderId"], "--json", "--data-dir", folder
        )
        shown = json.loads(out)
        assert code == 0 and shown["status"] == "SUCCEEDED" and shown["source"] == "view"

        code, out, _ = await stepstream(capsys, "orders", "list", "--json", "--data-dir", folder)
        listed = {order["orderId"]: order["status"] for order in json.loads(out)}
        assert listed == {placed["orderId"]: "SUCCEEDED", "ord-garbled": "WAITING_REVIEW"}

        code, out, _ = await stepstream(capsys, "orders", "list", "--data-dir", folder)
        assert code == 0 and "WAITING_REVIEW" in out and "1800 eur" in out


async def test_show_falls_back_to_the_history_for_an_order_the_view_has_not_seen(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = str(tmp_path)
    async with running_system(kafka, store_url, prefix) as system:
        advertise_stack(tmp_path, kafka, store_url, prefix)
        await register_fulfilment(system)
        await add_fake_services(system)
        code, out, _ = await stepstream(
            capsys,
            "orders",
            "place",
            "--sku",
            "MUG",
            "--qty",
            "3",
            "--order-id",
            "ord-unseen",
            "--data-dir",
            folder,
        )
        assert code == 0
        await system.finished(json.loads(out)["executionArn"])

        code, out, _ = await stepstream(
            capsys, "orders", "show", "ord-unseen", "--json", "--data-dir", folder
        )
        shown = json.loads(out)
        assert code == 0 and shown["source"] == "history"
        assert shown["status"] == "SUCCEEDED" and shown["trackingNumber"] == "TRK-ord-unseen"

        code, _, err = await stepstream(capsys, "orders", "show", "ord-never", "--data-dir", folder)
        assert code == 1 and json.loads(err)["error"] == "OrderNotFound"


async def test_placing_needs_a_running_stack_and_sensible_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await stepstream(
        capsys, "orders", "place", "--sku", "MUG", "--qty", "1", "--data-dir", str(tmp_path)
    )
    assert code == 1 and "no stack runs on" in err
    with pytest.raises(SystemExit):
        main(["orders", "place", "--sku", "MUG", "--qty", "0"])
    assert "--qty must be a whole number of at least 1, got '0'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["orders", "place", "--sku", "MUG", "--qty", "1", "--currency", "euro"])
    assert "--currency must be a 3-letter code" in capsys.readouterr().err
    code, _, err = await stepstream(capsys, "orders", "list", "--data-dir", str(tmp_path))
    assert code == 1 and f"no orders view in {tmp_path}" in err


def test_an_order_is_priced_from_the_shop_unless_a_price_is_given() -> None:
    from apps.cli.main import build_parser
    from apps.cli.orders_commands import order_document
    from services.common.catalog import PRODUCTS

    def amount(*extra: str) -> int:
        args = build_parser().parse_args(["orders", "place", "--qty", "2", *extra])
        return int(order_document(args)["amount"])

    assert amount("--sku", "MUG") == 2 * PRODUCTS["MUG"][0]
    assert amount("--sku", "MUG", "--unit-price", "250") == 500


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--qty", "99999999999999999999999"], "--qty (items.0.qty) invalid"),
        (["--qty", "1001"], "--qty (items.0.qty) invalid"),
        (["--sku", "NOT-IN-THE-SHOP"], "--sku (items.0.sku) invalid: unknown SKU"),
        (["--unit-price", "0"], "--unit-price (items.0.unitPrice) invalid"),
        (["--unit-price", "100000000"], "--unit-price (items.0.unitPrice) invalid"),
        (["--card", "pm_card_nonexistent"], "--card (paymentMethod) invalid: unknown payment"),
        (["--card", "tok_visa"], "--card (paymentMethod) invalid"),
        (["--order-id", "bad name !!"], "--order-id (orderId) invalid"),
    ],
)
async def test_an_order_the_shop_cannot_take_is_refused_before_anything_starts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    named: str,
) -> None:
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.delenv("STEPSTREAM_STRIPE_API_KEY", raising=False)
    base = {"--sku": "MUG", "--qty": "1", "--data-dir": str(tmp_path)}
    base.update(zip(flags[::2], flags[1::2], strict=True))

    code, out, err = await stepstream(
        capsys, "orders", "place", *[part for pair in base.items() for part in pair]
    )

    # Exit 2 and no word of a missing stack: refused before any stack was looked for.
    assert code == 2, err
    refusal = json.loads(err)
    assert refusal["error"] == "InvalidOrder"
    assert named in refusal["message"]
    assert out == ""


def test_with_a_real_stripe_key_any_stripe_shaped_payment_method_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from apps.cli.main import build_parser
    from apps.cli.orders_commands import order_document, placement_problems

    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_x")
    args = build_parser().parse_args(
        ["orders", "place", "--sku", "MUG", "--qty", "1", "--card", "pm_1PqXyZ2eZvKYlo2C"]
    )

    assert placement_problems(order_document(args)) == []
