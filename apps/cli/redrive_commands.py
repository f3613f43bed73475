"""`stepstream redrive-executions`: redrive many failed executions at once, after a look.

The executions are chosen by state machine, status, error and when they stopped; the
command shows how many (and which) it will redrive, asks before doing it unless told
`--yes`, then redrives each and reports one line per execution.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from stepstream.api.redrive_batch import (
    Candidates,
    Outcome,
    Selection,
    find_candidates,
    redrive_each,
)
from stepstream.api.stack_file import StackNotRunning
from stepstream.asl.redrive import REDRIVABLE_STATUSES

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if moment.utcoffset() is None:
        raise argparse.ArgumentTypeError(f"say the time zone (…Z or …+00:00): {text!r}")
    return moment


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "redrive-executions",
        help="redrive the failed, timed-out or aborted executions of a state machine",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--state-machine", required=True, metavar="NAME")
    parser.add_argument(
        "--status",
        action="append",
        choices=sorted(REDRIVABLE_STATUSES),
        help="only executions that ended so (repeatable; default all three)",
    )
    parser.add_argument("--error", metavar="NAME", help="only executions that failed with it")
    parser.add_argument(
        "--since", type=_moment, metavar="ISO", help="only executions that stopped at or after"
    )
    parser.add_argument(
        "--until", type=_moment, metavar="ISO", help="only executions that stopped before"
    )
    parser.add_argument("--yes", action="store_true", help="redrive without asking")
    parser.add_argument("--json", action="store_true", help="JSON instead of tables")
    parser.add_argument("--data-dir", help=DATA_DIR_HELP)
    parser.set_defaults(handler=_redrive_executions)


def _redrive_executions(args: argparse.Namespace) -> int:
    try:
        selection = Selection(
            args.state_machine,
            tuple(args.status or sorted(REDRIVABLE_STATUSES)),
            args.error,
            args.since,
            args.until,
        )
    except ValueError as exc:
        print(f"stepstream redrive-executions: {exc}", file=sys.stderr)
        return 2
    try:
        candidates = asyncio.run(_find(args.data_dir, selection))
        _show(candidates, as_json=args.json)
        arns = [described["executionArn"] for described in candidates.redrivable]
        if not arns or not (args.yes or _confirmed(len(arns))):
            return 0
        outcomes = asyncio.run(_redrive(args.data_dir, arns))
    except ApiError as exc:
        print(json.dumps(exc.as_json()), file=sys.stderr)
        return 1
    except StackNotRunning as exc:
        print(str(exc), file=sys.stderr)
        return 1
    _report(outcomes, as_json=args.json)
    return 0 if all(outcome.redriven for outcome in outcomes) else 1


async def _find(folder: str | None, selection: Selection) -> Candidates:
    async with connect(folder) as client:
        return await find_candidates(client, selection)


async def _redrive(folder: str | None, arns: list[str]) -> list[Outcome]:
    async with connect(folder) as client:
        return await redrive_each(client, arns)


def _confirmed(count: int) -> bool:
    # The question goes to stderr, so that stdout stays the listing and the report.
    print(f"Redrive {count} execution{'s' if count != 1 else ''}? [y/N] ", end="", file=sys.stderr)
    try:
        answer = input()
    except EOFError:
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("nothing redriven", file=sys.stderr)
    return False


def _show(candidates: Candidates, *, as_json: bool) -> None:
    count = len(candidates.redrivable)
    if as_json:
        listing = {
            "count": count,
            "executions": [_row(d) for d in candidates.redrivable],
            "notRedrivable": [_row(d) for d in candidates.not_redrivable],
        }
        print(json.dumps(listing, indent=2))
        return
    console = Console(width=200)
    console.print(f"{count} execution{'s' if count != 1 else ''} to redrive")
    if candidates.redrivable:
        table = Table("EXECUTION", "STATUS", "ERROR", "STOPPED", "REDRIVES")
        for row in map(_row, candidates.redrivable):
            table.add_row(*(str(row[key] or "") for key in _COLUMNS[:4]), str(row["redriveCount"]))
        console.print(table)
    for row in map(_row, candidates.not_redrivable):
        console.print(f"not redrivable: {row['executionArn']}: {row['redriveStatusReason']}")


_COLUMNS = ("executionArn", "status", "error", "stopDate", "redriveCount", "redriveStatusReason")


def _row(described: dict[str, Any]) -> dict[str, Any]:
    return {key: described.get(key) for key in _COLUMNS}


def _report(outcomes: list[Outcome], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps([outcome.to_json() for outcome in outcomes], indent=2))
        return
    for outcome in outcomes:
        if outcome.redrive_date is not None:
            print(f"redriven  {outcome.execution_arn}  at {outcome.redrive_date.isoformat()}")
        else:
            print(f"refused   {outcome.execution_arn}  {outcome.error}: {outcome.message}")
