"""`stepstream review`: the operator's desk for orders that failed in a way nobody foresaw.

Tickets are read from the review desk's database in the data folder; the execution
behind a ticket, and the decision sent back, go through the running stack.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from apps.cli.local_data import require_database
from services.review_desk.app import open_tickets
from services.review_desk.desk import ReviewDesk, ReviewError, TicketDetails
from services.review_desk.settings import ReviewDeskSettings
from services.review_desk.tickets import Ticket
from stepstream import arns
from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning, data_dir

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"
DECISIONS = ("retry", "compensate", "fail")
DECISIONS_HELP = (
    "retry: run the failed step again. "
    "compensate: undo everything done so far (refund the payment, release the stock, "
    "cancel the shipment), then fail the order as OrderFailed. "
    "fail: compensate (refund, release the stock, cancel the shipment) too, then fail "
    "the order as ReviewedAndFailed; no decision leaves money or stock held."
)


def register(commands: Any) -> None:
    review = commands.add_parser(
        "review",
        help="review tickets: list them, look at one, send an operator's decision",
        description="Orders that failed in a way the definition does not know wait here "
        "for an operator to decide: retry the failed step, compensate, or fail the order.",
    )
    actions = review.add_subparsers(dest="review_action", metavar="ACTION", required=True)

    listing = actions.add_parser("list", help="open tickets, oldest first")
    listing.add_argument("--all", action="store_true", help="resolved and expired tickets too")
    listing.add_argument("--json", action="store_true", help="a JSON array")
    listing.add_argument("--data-dir", help=DATA_DIR_HELP)
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="a ticket and its execution (status, path, error)")
    show.add_argument("ticket_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON object")
    show.add_argument("--data-dir", help=DATA_DIR_HELP)
    show.set_defaults(handler=_show)

    resolve = actions.add_parser(
        "resolve", help="send the decision for an open ticket", description=DECISIONS_HELP
    )
    resolve.add_argument("ticket_id", metavar="ID")
    resolve.add_argument(
        "--decision", required=True, choices=DECISIONS, help="what the order does next (see above)"
    )
    resolve.add_argument("--note", default="", help="why (kept with the ticket and the execution)")
    resolve.add_argument("--operator", default=None, help="who decides (default: the user name)")
    resolve.add_argument("--data-dir", help=DATA_DIR_HELP)
    resolve.set_defaults(handler=_resolve)


@asynccontextmanager
async def open_desk(
    folder: str | None, *, online: bool, required: bool
) -> AsyncIterator[ReviewDesk]:
    """The desk on ``folder``'s ticket database; with ``online``, connected to its stack."""
    settings = ReviewDeskSettings(data_dir=data_dir(folder))
    require_database(folder, settings.database_url(), "review tickets")
    async with AsyncExitStack() as stack:
        database = await open_tickets(settings)
        stack.push_async_callback(database.close)
        client = None
        if online:
            try:
                client = await stack.enter_async_context(connect(folder))
            except StackNotRunning:
                if required:
                    raise
        yield ReviewDesk(database=database, executions=client)


def _list(args: argparse.Namespace) -> int:
    async def run(desk: ReviewDesk) -> list[Ticket]:
        return await desk.list_tickets(include_closed=args.all)

    tickets = _run(args, run, online=False)
    if tickets is None:
        return 1
    if args.json:
        print(json.dumps([ticket.to_json() for ticket in tickets], indent=2))
    elif not tickets:
        print("no open review tickets" if not args.all else "no review tickets")
    else:
        print(_table(tickets))
    return 0


def _show(args: argparse.Namespace) -> int:
    async def run(desk: ReviewDesk) -> TicketDetails:
        return await desk.show(args.ticket_id)

    details = _run(args, run, online=True)
    if details is None:
        return 1
    if args.json:
        print(json.dumps(details.to_json(), indent=2))
    else:
        print(_describe(details))
    return 0


def _resolve(args: argparse.Namespace) -> int:
    operator = args.operator or _user_name()

    async def run(desk: ReviewDesk) -> Ticket:
        return await desk.resolve(
            args.ticket_id, decision=args.decision, note=args.note, operator=operator
        )

    ticket = _run(args, run, online=True, required=True)
    if ticket is None:
        return 1
    print(json.dumps(ticket.to_json(), indent=2))
    return 0


def _run(
    args: argparse.Namespace,
    call: Callable[[ReviewDesk], Awaitable[Any]],
    *,
    online: bool,
    required: bool = False,
) -> Any:
    """``call``'s result, or None after printing why it was refused."""

    async def run() -> Any:
        async with open_desk(args.data_dir, online=online, required=required) as desk:
            return await call(desk)

    try:
        return asyncio.run(run())
    except (ReviewError, ApiError) as exc:
        print(json.dumps(exc.as_json()), file=sys.stderr)
    except (StackNotRunning, ValueError) as exc:
        print(str(exc), file=sys.stderr)
    return None


def _user_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"


def _execution_name(arn: str) -> str:
    try:
        return arns.parse_execution_arn(arn)[1]
    except ValueError:
        return arn


def _table(tickets: list[Ticket]) -> str:
    rows = [("ID", "STATUS", "OPENED", "FAILED IN", "ERROR", "EXECUTION")]
    rows += [
        (
            t.ticket_id,
            str(t.status),
            t.opened_at.strftime("%Y-%m-%d %H:%M:%S"),
            t.failed_state or "-",
            t.error or "-",
            _execution_name(t.execution_arn),
        )
        for t in tickets
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _describe(details: TicketDetails) -> str:
    t = details.ticket
    lines = [
        f"ticket     {t.ticket_id} ({t.status})",
        f"execution  {t.execution_arn}",
        f"failed in  {t.failed_state or '-'} with {t.error or '-'}",
        f"cause      {t.cause or '-'}",
        f"opened     {t.opened_at.isoformat()}",
    ]
    if t.decision is not None:
        lines.append(f"decision   {t.decision} by {t.operator}: {t.note or '-'}")
    if t.closed_reason:
        lines.append(f"closed     {t.closed_reason}")
    execution = details.execution
    if execution is None:
        lines.append(f"status     unknown ({details.unavailable})")
    else:
        lines.append(f"status     {execution.status}")
        lines.append(f"path       {' > '.join(execution.path) or '-'}")
        if execution.error:
            lines.append(f"error      {execution.error}: {execution.cause or ''}")
    return "\n".join(lines)
