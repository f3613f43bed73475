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
from services.review_desk.edits import InvalidEdit, parse_assignments
from services.review_desk.queue import TicketFilter, select
from services.review_desk.settings import ReviewDeskSettings
from services.review_desk.tickets import Ticket
from stepstream import arns
from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning, data_dir

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"
DECISIONS = ("retry", "compensate", "fail")
BATCH_HELP = (
    "Several ids, or --all with --step/--error/--min-age/--max-age, decide many tickets "
    "with one decision and one reason and print each ticket's result (--preview first)."
)
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
        "resolve",
        help="send the decision for open tickets: by id, or every one a filter picks",
        description=DECISIONS_HELP + " " + BATCH_HELP,
    )
    resolve.add_argument("ticket_ids", metavar="ID", nargs="*", help="the tickets to decide")
    resolve.add_argument(
        "--decision", required=True, choices=DECISIONS, help="what the order does next (see above)"
    )
    resolve.add_argument(
        "--reason",
        "--note",
        dest="reason",
        required=True,
        help="why (kept with the ticket, in the audit log and in the execution)",
    )
    resolve.add_argument(
        "--edit",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="correct the order before a retry (one ticket only), e.g. --edit address.line1='2 "
        "Main St'; the address can always be corrected, the payment method before the charge",
    )
    resolve.add_argument("--operator", default=None, help="who decides (default: the user name)")
    resolve.add_argument("--all", action="store_true", help="every open ticket the filter picks")
    resolve.add_argument("--step", help="with --all: tickets whose failed step is this")
    resolve.add_argument("--error", help="with --all: tickets with this error")
    resolve.add_argument("--min-age", type=float, help="with --all: opened at least N minutes ago")
    resolve.add_argument("--max-age", type=float, help="with --all: opened at most N minutes ago")
    resolve.add_argument(
        "--preview", action="store_true", help="print the tickets that would be decided only"
    )
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
    problem = _resolve_problem(args)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.all or len(args.ticket_ids) > 1 or args.preview:
        return _resolve_batch(args, operator)
    try:
        edits = parse_assignments(args.edit)
    except InvalidEdit as exc:
        print(str(exc), file=sys.stderr)
        return 2

    async def run(desk: ReviewDesk) -> Ticket:
        return await desk.resolve(
            args.ticket_ids[0],
            decision=args.decision,
            note=args.reason,
            operator=operator,
            edits=edits,
        )

    ticket = _run(args, run, online=True, required=True)
    if ticket is None:
        return 1
    print(json.dumps(ticket.to_json(), indent=2))
    return 0


def _resolve_problem(args: argparse.Namespace) -> str | None:
    if not args.reason.strip():
        return "--reason must say why: it goes to the audit log and the execution"
    filtered = any(v is not None for v in (args.step, args.error, args.min_age, args.max_age))
    if args.all and args.ticket_ids:
        return "give ticket ids or --all with a filter, not both"
    if filtered and not args.all:
        return "--step, --error, --min-age and --max-age pick tickets with --all"
    if not args.all and not args.ticket_ids:
        return "name the tickets to decide, or use --all (with --step/--error/--min-age/--max-age)"
    if args.edit and (args.all or len(args.ticket_ids) != 1):
        return "--edit corrects one ticket's order: give exactly one ticket id"
    return None


def _resolve_batch(args: argparse.Namespace, operator: str) -> int:
    wanted = TicketFilter(
        step=args.step,
        error=args.error,
        min_age_minutes=args.min_age,
        max_age_minutes=args.max_age,
    )

    async def run(desk: ReviewDesk) -> list[dict[str, Any]]:
        if args.all:
            chosen = select(await desk.list_tickets(), wanted, desk.clock())
        else:
            chosen = [await desk.ticket(ticket_id) for ticket_id in args.ticket_ids]
        ids = [t.ticket_id for t in chosen]
        if args.preview:
            return [
                {
                    "ticketId": t.ticket_id,
                    "status": str(t.status),
                    "failedState": t.failed_state,
                    "error": t.error,
                    "decision": args.decision,
                }
                for t in chosen
            ]
        outcomes = await desk.resolve_many(
            ids, decision=args.decision, note=args.reason, operator=operator
        )
        return [o.to_json() for o in outcomes]

    results = _run(args, run, online=not args.preview, required=not args.preview)
    if results is None:
        return 1
    print(json.dumps(results, indent=2))
    return 0 if all(r.get("ok", True) for r in results) else 1


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
