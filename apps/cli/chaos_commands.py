"""`stepstream chaos`: many orders through a planned sequence of faults, then an audit."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

DATA_DIR_HELP = "use the stack already running on this data folder instead of starting one"


def register(commands: Any) -> None:
    chaos = commands.add_parser(
        "chaos",
        help="run a chaos scenario against the stack and audit the books",
        description="Start an embedded stack (or use a running one), place orders at a "
        "steady rate while the scenario's faults strike on schedule, wait until every "
        "order settled, audit the system's records against the invariants and write a "
        "report. Exits 1 when an invariant is violated.",
    )
    chaos.add_argument(
        "scenario", nargs="?", metavar="SCENARIO", help="a shipped scenario's name or a TOML file"
    )
    chaos.add_argument("--list", action="store_true", help="the shipped scenarios")
    chaos.add_argument("--orders", type=int, help="how many orders (default: the scenario's)")
    chaos.add_argument("--rate", type=float, help="orders per second (default: the scenario's)")
    chaos.add_argument("--seed", type=int, help="the orders' and faults' seed")
    chaos.add_argument(
        "--settle-seconds", type=float, help="how long to wait for the orders to settle"
    )
    chaos.add_argument(
        "--report", metavar="DIR", help="where the report goes (default ./chaos-report)"
    )
    chaos.add_argument("--data-dir", help=DATA_DIR_HELP)
    chaos.add_argument("--quiet", action="store_true", help="no progress bar")
    chaos.set_defaults(handler=_chaos)


def _chaos(args: argparse.Namespace) -> int:
    from apps.chaos.scenario import ScenarioError, find_scenario, load_scenario, shipped

    if args.list:
        for name, path in shipped().items():
            scenario = load_scenario(path)
            print(f"{name:<18} {scenario.description}")
        return 0
    if not args.scenario:
        print("name a scenario (stepstream chaos --list shows them) or a file", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(find_scenario(args.scenario))
    except ScenarioError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    overrides = {
        key: value
        for key, value in (
            ("orders", args.orders),
            ("rate", args.rate),
            ("seed", args.seed),
            ("settle_seconds", args.settle_seconds),
        )
        if value is not None
    }
    try:
        scenario = scenario.model_validate({**scenario.model_dump(by_alias=True), **overrides})
    except ValueError as exc:
        print(f"bad option: {exc}", file=sys.stderr)
        return 2
    # The runner brings aiohttp, matplotlib and the stack: imported only for a run.
    from apps.chaos.run import run_chaos

    report = Path(args.report or "chaos-report").resolve()
    data_dir = Path(args.data_dir).resolve() if args.data_dir else None
    return asyncio.run(
        run_chaos(scenario, report_dir=report, data_dir=data_dir, progress=not args.quiet)
    )
