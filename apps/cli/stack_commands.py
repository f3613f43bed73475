"""`stepstream up` and `stepstream status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from apps.stack.processes import (
    API,
    SECRETS_FOR,
    SIMULATORS,
    STATE_MACHINES,
    simulator_urls,
    stack_services,
)
from apps.stack.up import Stack, StackOptions
from stepstream.api.stack_file import StackNotRunning, data_dir, pid_alive, read_stack

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"


def register(commands: Any) -> None:
    up = commands.add_parser("up", help="start the embedded stack and keep it running until Ctrl-C")
    up.add_argument("--data-dir", help=DATA_DIR_HELP)
    up.add_argument(
        "--broker-port", type=int, help="the embedded broker's port (default: a free one)"
    )
    up.set_defaults(handler=_up)

    status = commands.add_parser("status", help="the stack's processes with their pids and health")
    status.add_argument("--data-dir", help=DATA_DIR_HELP)
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.set_defaults(handler=_status)


def stack_options(
    folder: Path, broker_port: int | None = None, *, log_to_files: bool = False
) -> StackOptions:
    services, env = stack_services(folder)
    return StackOptions(
        data_dir=folder,
        broker_port=broker_port,
        services=services,
        env=env,
        secrets=SECRETS_FOR,
        state_machines=[(m.name, m.definition, m.bindings) for m in STATE_MACHINES],
        urls=simulator_urls(folder),
        log_to_files=log_to_files,
        broker_free=frozenset(SIMULATORS),
    )


def _up(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with Stack(stack_options(data_dir(args.data_dir), args.broker_port)) as stack:
            broker, folder = stack.broker.bootstrap_servers, stack.options.data_dir
            print(
                f"stepstream is up: broker {broker}, Step Functions API "
                f"{stack.options.urls[API]}, data in {folder}"
            )
            if "desk" in stack.options.urls:
                print(
                    f"web desk at {stack.options.urls['desk']}/ "
                    "(add users with `stepstream desk add-user NAME --role ROLE`)"
                )
            await stop.wait()
            print("stopping...")

    asyncio.run(run())
    return 0


def _status(args: argparse.Namespace) -> int:
    folder = data_dir(args.data_dir)
    try:
        stack = read_stack(folder)
    except StackNotRunning as exc:
        if args.json:
            print(json.dumps({"dataDir": str(folder), "running": False, "processes": []}))
        else:
            print(str(exc), file=sys.stderr)
        return 1
    processes = [
        {
            "name": p.name,
            "pid": p.pid,
            "state": p.state,
            "restarts": p.restarts,
            "healthy": p.state == "running" and pid_alive(p.pid),
            "health": stack.health.get(p.name),
        }
        for p in stack.processes.values()
    ]
    report = {
        "dataDir": str(folder),
        "running": True,
        "bootstrapServers": stack.bootstrap_servers,
        "storeUrl": stack.store_url,
        "stepFunctionsApi": stack.urls.get(API),
        "urls": stack.urls,
        "processes": processes,
    }
    if args.json:
        print(json.dumps(report))
    else:
        if "desk" in stack.urls:
            print(f"web desk at {stack.urls['desk']}/")
        for p in processes:
            print(
                f"{p['name']:>16}  pid {p['pid']!s:>7}  {p['state']:<10} restarts {p['restarts']}"
            )
    return 0
