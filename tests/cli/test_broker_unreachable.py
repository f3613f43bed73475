"""A command that has to reach the broker, run while no broker answers at the stack's
address, says so in one line on stderr and fails; it shows no traceback."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.cli.main import main
from services.review_desk.app import open_tickets
from services.review_desk.settings import ReviewDeskSettings
from stepstream.api.stack_file import StackFile, write_stack

MACHINE = "arn:aws:states:local:000000000000:stateMachine:Fulfilment"

NEEDS_THE_BROKER = [
    ["review", "resolve", "rv-1", "--decision", "fail", "--reason", "customer left"],
    ["review", "resolve", "--all", "--decision", "retry", "--reason", "carrier is back"],
    ["orders", "place", "--sku", "MUG", "--qty", "1"],
    ["start-execution", MACHINE],
    ["send-task-heartbeat", "token"],
    ["redrive-executions", "--state-machine", MACHINE, "--yes"],
    ["dead-letters", "list"],
]


@pytest.fixture
def silent_address() -> Iterator[str]:
    """An address nobody listens on: bound, so no one else takes it, but not listening."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        host, port = held.getsockname()
        yield f"{host}:{port}"


@pytest.fixture
def stack_without_broker(tmp_path: Path, silent_address: str) -> Path:
    """A data folder whose stack is up, with its databases, but whose broker is gone."""
    write_stack(
        tmp_path,
        StackFile(
            supervisor_pid=os.getpid(),
            bootstrap_servers=silent_address,
            store_url=f"sqlite:///{tmp_path / 'orchestrator.db'}",
            topic_prefix="unreachable",
            started_at=datetime.now(UTC),
        ),
    )

    async def make_ticket_database() -> None:
        await (await open_tickets(ReviewDeskSettings(data_dir=tmp_path))).close()

    asyncio.run(make_ticket_database())
    return tmp_path


@pytest.mark.parametrize("command", NEEDS_THE_BROKER, ids=" ".join)
def test_an_unreachable_broker_is_one_line_naming_it_and_a_failure(
    command: list[str],
    stack_without_broker: Path,
    silent_address: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main([*command, "--data-dir", str(stack_without_broker)])

    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    refusal = json.loads(line)
    assert refusal["error"] == "BrokerUnreachable"
    assert silent_address in refusal["message"]


def test_the_command_itself_prints_only_that_line(
    stack_without_broker: Path, silent_address: str
) -> None:
    # As an operator runs it: no test's log capture stands in for logging's last resort.
    resolve = NEEDS_THE_BROKER[0]
    done = subprocess.run(
        [sys.executable, "-m", "apps.cli.main", *resolve, "--data-dir", str(stack_without_broker)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert json.loads(line)["error"] == "BrokerUnreachable"
    assert silent_address in line
