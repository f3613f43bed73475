"""`stepstream demo` and `stepstream carrier faults`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from stepstream.api.stack_file import StackNotRunning, data_dir, read_stack

FAULTS = ("rate_429", "rate_503", "rate_timeout", "rate_malformed", "rate_reject")


def register(commands: Any) -> None:
    demo = commands.add_parser(
        "demo",
        help="start a fresh stack, send one order down every path, print outcomes and balances",
    )
    demo.add_argument("--json", action="store_true", help="the last line is one JSON object")
    demo.add_argument(
        "--data-dir", help="where the demo's stack keeps its data (default: a new temporary folder)"
    )
    demo.set_defaults(handler=_demo)

    carrier = commands.add_parser("carrier", help="the carrier simulator of the running stack")
    verbs = carrier.add_subparsers(dest="verb", metavar="VERB", required=True)
    faults = verbs.add_parser("faults", help="show, set or clear the carrier's injected faults")
    for name in FAULTS:
        faults.add_argument(
            f"--{name.replace('_', '-')}", type=float, help="share of requests, 0 to 1"
        )
    faults.add_argument("--retry-after-seconds", type=float, help="Retry-After sent with a 429")
    faults.add_argument(
        "--timeout-delay-seconds", type=float, help="how late a timed-out answer comes"
    )
    faults.add_argument("--seed", type=int, help="makes the faults' sequence repeatable")
    faults.add_argument("--clear", action="store_true", help="no faults")
    faults.add_argument("--data-dir", help="the stack's data folder")
    faults.set_defaults(handler=_faults)


def _demo(args: argparse.Namespace) -> int:
    # The demo and the simulators bring the aiohttp server with them: imported when a
    # command needs them, so every other command starts without it.
    from apps.demo.run import run_demo

    folder = Path(args.data_dir).resolve() if args.data_dir else None
    return asyncio.run(run_demo(as_json=args.json, folder=folder))


def _faults(args: argparse.Namespace) -> int:
    from simulators.carrier import admin  # as in _demo: only this command needs aiohttp

    try:
        url = read_stack(data_dir(args.data_dir)).urls["carrier"]
    except (StackNotRunning, KeyError) as exc:
        print(f"no carrier simulator to reach: {exc}", file=sys.stderr)
        return 1
    chosen = {
        key: value
        for key in (*FAULTS, "retry_after_seconds", "timeout_delay_seconds", "seed")
        if (value := getattr(args, key)) is not None
    }
    try:
        if args.clear:
            settings = asyncio.run(admin.clear_faults(url))
        elif chosen:
            settings = asyncio.run(admin.set_faults(url, **chosen))
        else:
            settings = asyncio.run(admin.get_faults(url))
    except admin.CarrierAdminError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    return 0
