"""The error-handling tutorial: MyAPIStateMachine against MockAPIFunction, every outcome."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from stepstream.asl.local import LocalRunner, load_functions
from stepstream.asl.machine import load_machine
from tests.engine.support import of_type, types

EXAMPLE = Path(__file__).parents[2] / "examples" / "error-handling"
MACHINES = ["MyAPIStateMachine.asl.json", "aws-console.asl.json"]


def run_example(machine_file: str, statuscode: str) -> LocalRunner:
    machine = load_machine((EXAMPLE / machine_file).read_text())
    local = LocalRunner(machine, functions=load_functions(EXAMPLE / "functions.py"), seed=1)
    local.run({"statuscode": statuscode})
    return local


@pytest.mark.parametrize("machine_file", MACHINES)
def test_200_succeeds_with_the_ok_message(machine_file: str) -> None:
    local = run_example(machine_file, "200")
    assert local.result() == {
        "status": "SUCCEEDED",
        "output": "The request has succeeded.",
        "error": None,
        "cause": None,
    }


@pytest.mark.parametrize("machine_file", MACHINES)
def test_503_is_caught_and_fails_as_server_unavailable(machine_file: str) -> None:
    local = run_example(machine_file, "503")
    assert local.execution.status == "FAILED"
    assert local.execution.error == "ServerUnavailable"
    entered = [e.details.name for e in local.history if e.type.endswith("StateEntered")]  # type: ignore[union-attr]
    assert entered == ["Call API", "Server Unavailable"]


@pytest.mark.parametrize("machine_file", MACHINES)
def test_999_falls_to_the_catch_all(machine_file: str) -> None:
    local = run_example(machine_file, "999")
    assert local.execution.status == "FAILED"
    assert local.execution.error == "An error of unknown type occurred"
    assert local.execution.cause == "Unknown error!"


def test_429_retries_twice_then_waits_changes_to_200_and_succeeds() -> None:
    local = run_example("MyAPIStateMachine.asl.json", "429")
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == "The request has succeeded."
    failures = of_type(local.history, "TaskFailed")
    assert [f.details.error for f in failures] == ["TooManyRequestsException"] * 3  # type: ignore[union-attr]
    # The first call and two retries, one and two seconds apart (interval 1, back-off rate 2).
    assert [f.details.retryDelaySeconds for f in failures] == [1.0, 2.0, None]  # type: ignore[union-attr]
    scheduled = of_type(local.history, "TaskScheduled")
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in itertools.pairwise(scheduled)]
    assert gaps[:2] == [1.0, 2.0]
    entered = [e.details.name for e in local.history if e.type.endswith("StateEntered")]  # type: ignore[union-attr]
    assert entered == ["Call API", "Wait and Try Later", "Change to 200", "Call API", "OK"]
    assert len(scheduled) == 4


def test_429_in_the_console_form_records_lambda_events() -> None:
    local = run_example("aws-console.asl.json", "429")
    assert local.execution.status == "SUCCEEDED"
    assert types(local.history).count("LambdaFunctionFailed") == 3
    assert "TaskScheduled" not in types(local.history)
    cause = json.loads(of_type(local.history, "LambdaFunctionFailed")[0].details.cause)  # type: ignore[union-attr]
    assert cause["errorType"] == "TooManyRequestsException"
    assert cause["errorMessage"] == "429 Too Many Requests"
    assert isinstance(cause["stackTrace"], list)


def test_the_command_line_prints_the_outcome_last() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "apps.cli.main",
            "run",
            str(EXAMPLE / "MyAPIStateMachine.asl.json"),
            "--functions",
            str(EXAMPLE / "functions.py"),
            "--input",
            '{"statuscode": "429"}',
            "--virtual-time",
            "--history",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = completed.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {
        "status": "SUCCEEDED",
        "output": "The request has succeeded.",
        "error": None,
        "cause": None,
    }
    history = [json.loads(line) for line in lines[:-1]]
    assert history[0]["type"] == "ExecutionStarted"
    assert [h["type"] for h in history].count("TaskFailed") == 3
    assert history[-1]["type"] == "ExecutionSucceeded"
