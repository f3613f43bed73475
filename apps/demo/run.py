"""Run the demo: start a fresh embedded stack, send the orders, report, stop."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from apps.cli.stack_commands import stack_options
from apps.demo.balances import read_balances
from apps.demo.report import render
from apps.demo.scenario import Scenario
from apps.stack.processes import simulator_urls
from apps.stack.up import Stack
from stepstream.api.connect import connect


async def run_demo(*, as_json: bool, folder: Path | None = None) -> int:
    """Returns 0 when every order ended where it should and the books balance."""
    data_dir = folder or Path(tempfile.mkdtemp(prefix="stepstream-demo-"))

    def say(line: str) -> None:
        print(line, file=sys.stderr if as_json else sys.stdout, flush=True)

    say(f"starting the embedded stack in {data_dir} ...")
    async with Stack(stack_options(data_dir, log_to_files=True)):
        urls = simulator_urls(data_dir)
        async with connect(str(data_dir)) as client:
            outcomes = await Scenario(client, urls["carrier"], say=say).run()
        balances = await read_balances(
            data_dir, urls["stripe"], outcomes, carrier_url=urls["carrier"]
        )
        say("stopping the stack ...")
    if as_json:
        print(
            json.dumps({"orders": [o.as_json() for o in outcomes], "balances": balances.as_json()})
        )
    else:
        print(render(outcomes, balances))
    return 0 if all(balances.invariants().values()) else 1
