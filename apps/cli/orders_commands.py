"""`stepstream orders`: place an order, and follow orders through fulfilment.

``place`` starts an execution of the fulfilment state machine named by the order id.
``list`` and ``show`` read the orders view (a projection of the history and receipt
events) from the data folder; ``show`` completes an order the view has not caught up
with from the execution's history, when the stack runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import uuid
from typing import Any

from apps.cli.api_commands import run_api
from apps.cli.local_data import require_database
from services.common.catalog import PRODUCTS
from services.common.inputs import describe
from services.common.orders import Order, Shop, shop_problems
from services.order_view.projector import StoreHistory
from services.order_view.queries import (
    OrderNotFound,
    ShownOrder,
    list_orders,
    open_view,
    show_order,
)
from services.order_view.repository import OrderView
from services.order_view.settings import OrderViewSettings
from stepstream.api.aws_operations import StepFunctionsApi
from stepstream.api.connect import connect
from stepstream.api.stack_file import StackNotRunning, data_dir

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"
STATE_MACHINE = "Fulfilment"
_CURRENCY = re.compile(r"[a-z]{3}")


def register(commands: Any) -> None:
    orders = commands.add_parser(
        "orders",
        help="place orders and follow them: status, path taken, error, tracking, receipt",
        description="Orders go through the fulfilment state machine; these commands start "
        "them and show where they are.",
    )
    actions = orders.add_subparsers(dest="orders_action", metavar="ACTION", required=True)
    _register_place(actions)

    listing = actions.add_parser("list", help="orders, the most recent first")
    listing.add_argument("--json", action="store_true", help="a JSON array")
    listing.add_argument("--data-dir", help=DATA_DIR_HELP)
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one order: status, path, error, tracking, receipt")
    show.add_argument("order_id", metavar="ID", help="the order id (or its execution ARN)")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.add_argument("--data-dir", help=DATA_DIR_HELP)
    show.set_defaults(handler=_show)


def _register_place(actions: Any) -> None:
    place = actions.add_parser("place", help="start an order; prints its id and execution")
    place.add_argument("--sku", required=True, type=_text("--sku"))
    place.add_argument("--qty", required=True, type=_whole(1, "--qty"))
    place.add_argument("--card", default="pm_card_visa", help="payment method (Stripe test ids)")
    place.add_argument(
        "--unit-price",
        type=_whole(0, "--unit-price"),
        help="price of one item in minor units (cents); default: the shop's price for the SKU",
    )
    place.add_argument("--currency", type=_currency, default="eur")
    place.add_argument("--name", default="Ada Lovelace")
    place.add_argument("--line1", default="Keizersgracht 1")
    place.add_argument("--city", default="Amsterdam")
    place.add_argument("--postal-code", default="1015 CJ")
    place.add_argument("--country", default="NL")
    place.add_argument("--order-id", help="the order id (default: a new ord-<8 hex>)")
    place.add_argument("--data-dir", help=DATA_DIR_HELP)
    place.set_defaults(handler=_place)


# The order fields the place command's flags fill, for errors in the flags' words.
_FLAGS = {
    "items.0.sku": "--sku",
    "items.0.qty": "--qty",
    "items.0.unitPrice": "--unit-price",
    "paymentMethod": "--card",
    "currency": "--currency",
    "orderId": "--order-id",
    "address.name": "--name",
    "address.line1": "--line1",
    "address.city": "--city",
    "address.postal_code": "--postal-code",
    "address.country": "--country",
}


def unit_price(args: argparse.Namespace) -> int | None:
    """The price given, else the shop's; None for a SKU the shop does not sell."""
    if args.unit_price is not None:
        return int(args.unit_price)
    listed = PRODUCTS.get(args.sku)
    return listed[0] if listed else None


def placement_problems(order: dict[str, Any]) -> list[str]:
    """Why the shop would refuse ``order``, each naming its flag; empty when it holds."""
    from pydantic import ValidationError

    shop = Shop({sku: price for sku, (price, _) in PRODUCTS.items()}, _payment_methods())
    skus = [str(item.get("sku")) for item in order["items"]]
    problems = shop_problems(skus, str(order["paymentMethod"]), shop)
    if not problems:
        try:
            Order.model_validate(order)
        except ValidationError as exc:
            problems = describe(exc).split("; ")
    return [_in_flags(problem) for problem in problems]


def _payment_methods() -> frozenset[str] | None:
    """The stand-in's test cards, unless a real Stripe key says other ids may exist."""
    if os.environ.get("STRIPE_API_KEY") or os.environ.get("STEPSTREAM_STRIPE_API_KEY"):
        return None
    # Imported here: the stand-in's package brings its aiohttp server with it.
    from simulators.stripe_api.cards import TEST_PAYMENT_METHODS

    return frozenset(TEST_PAYMENT_METHODS)


def _in_flags(problem: str) -> str:
    for field, flag in _FLAGS.items():
        problem = problem.replace(f"field '{field}'", f"{flag} ({field})")
    return problem


def order_document(args: argparse.Namespace) -> dict[str, Any]:
    """The order an execution of the fulfilment state machine starts with."""
    price = unit_price(args)
    return {
        "orderId": args.order_id or f"ord-{uuid.uuid4().hex[:8]}",
        "items": [{"sku": args.sku, "qty": args.qty, "unitPrice": price}],
        "amount": args.qty * (price or 0),
        "currency": args.currency,
        "paymentMethod": args.card,
        "address": {
            "name": args.name,
            "line1": args.line1,
            "city": args.city,
            "postal_code": args.postal_code,
            "country": args.country,
        },
    }


def _place(args: argparse.Namespace) -> int:
    order = order_document(args)
    problems = placement_problems(order)
    if problems:
        refusal = {"error": "InvalidOrder", "message": "; ".join(problems)}
        print(json.dumps(refusal), file=sys.stderr)
        return 2

    async def start(api: StepFunctionsApi) -> dict[str, Any]:
        request = {"stateMachineArn": STATE_MACHINE, "input": json.dumps(order)}
        started = await api.call("StartExecution", {**request, "name": order["orderId"]})
        return {"orderId": order["orderId"], **started}

    return run_api(start, args)


def _list(args: argparse.Namespace) -> int:
    async def run() -> list[OrderView]:
        database = await open_view(_settings(args))
        try:
            return await list_orders(database)
        finally:
            await database.close()

    try:
        orders = asyncio.run(run())
    except (ValueError, StackNotRunning) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([order.to_json() for order in orders], indent=2))
    elif not orders:
        print("no orders yet")
    else:
        print(orders_table([order.to_json() for order in orders]))
    return 0


def _show(args: argparse.Namespace) -> int:
    try:
        shown = asyncio.run(_find(args))
    except OrderNotFound as exc:
        print(json.dumps({"error": "OrderNotFound", "message": str(exc)}), file=sys.stderr)
        return 1
    except (ValueError, StackNotRunning) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    document = {**shown.order.to_json(), "source": shown.source}
    print(json.dumps(document, indent=2) if args.json else _describe(document))
    return 0


async def _find(args: argparse.Namespace) -> ShownOrder:
    database = await open_view(_settings(args))
    try:
        try:
            async with connect(args.data_dir) as client:
                return await show_order(database, args.order_id, history=StoreHistory(client.store))
        except StackNotRunning:
            return await show_order(database, args.order_id)
    finally:
        await database.close()


def _settings(args: argparse.Namespace) -> OrderViewSettings:
    settings = OrderViewSettings(data_dir=data_dir(args.data_dir))
    require_database(args.data_dir, settings.database_url(), "orders view")
    return settings


def _text(flag: str) -> Any:
    def parse(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError(f"{flag} must not be empty")
        return value.strip()

    return parse


def _whole(least: int, flag: str) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = least - 1
        if number < least:
            raise argparse.ArgumentTypeError(
                f"{flag} must be a whole number of at least {least}, got {value!r}"
            )
        return number

    return parse


def _currency(value: str) -> str:
    code = value.strip().lower()
    if not _CURRENCY.fullmatch(code):
        raise argparse.ArgumentTypeError(f"--currency must be a 3-letter code, got {value!r}")
    return code


def _money(receipt: dict[str, Any] | None) -> str:
    if not receipt or receipt.get("total") is None:
        return "-"
    return f"{receipt['total']} {receipt.get('currency', '')}".strip()


# Columns are as wide as their widest cell, up to this: an order id is whatever the
# order document said, and one of thousands of characters pushed every row off screen.
MAX_CELL = 40


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def orders_table(orders: list[dict[str, Any]]) -> str:
    """The orders as `orders list` prints them: a row each, the last column unclipped."""
    rows = [("ORDER", "STATUS", "RETRIES", "TRACKING", "TOTAL", "PATH / ERROR")]
    for order in orders:
        last = order["path"][-1] if order["path"] else "-"
        detail = f"{len(order['path'])} states, at {last}"
        if order["error"]:
            detail += f"; {order['error']}"
        rows.append(
            (
                _clipped(order["orderId"]),
                order["status"],
                str(order["retries"]),
                _clipped(order["trackingNumber"] or "-"),
                _money(order["receipt"]),
                detail,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _describe(order: dict[str, Any]) -> str:
    lines = [
        f"order      {order['orderId']}",
        f"status     {order['status']} (from the {order['source']})",
        f"execution  {order['executionArn']}",
        f"path       {' > '.join(order['path']) or '-'}",
        f"retries    {order['retries']}",
    ]
    if order["error"]:
        lines.append(f"error      {order['error']}: {order['cause'] or ''}")
    lines.append(f"tracking   {order['trackingNumber'] or '-'}")
    receipt = order["receipt"]
    if receipt:
        lines.append(f"receipt    {receipt.get('receiptId', '-')}: {_money(receipt)}")
    lines.append(f"updated    {order['updatedAt']}")
    return "\n".join(lines)
