"""`stepstream validate` and `stepstream run`, as issue 2 specifies them.

validate: exit 0 when the definition is valid; exit 2 with every error on stderr when not.
run: the last line of stdout is one JSON object {"status", "output", "error", "cause"};
with --history the events come first, one JSON object a line; exit 0 whatever the status;
an invalid definition or a bad --input exits 2 and prints nothing on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from apps.cli.main import main

EXAMPLE = Path(__file__).parents[2] / "examples" / "error-handling"

INVALID = {
    "StartAt": "Missing",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:f",
            "Nexxt": "Done",
        },
        "Done": {"Type": "Succeed", "Next": "Call"},
    },
}

FUNCTIONS = """
class Declined(Exception):
    pass


def charge(event, context):
    if event.get("card") == "bad":
        raise Declined("card declined")
    return {"charged": event["amount"]}


def _helper(event, context):
    return "not a function of the machine"
"""

CHARGE = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:123456789012:function:charge",
            "Retry": [
                {
                    "ErrorEquals": ["Declined"],
                    "IntervalSeconds": 30,
                    "MaxAttempts": 1,
                    "JitterStrategy": "FULL",
                }
            ],
            "End": True,
        }
    },
}


def write(tmp_path: Path, name: str, content: Any) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def outcome(stdout: str) -> dict[str, Any]:
    last: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return last


def test_validate_accepts_a_valid_definition(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "validate", str(EXAMPLE / "MyAPIStateMachine.asl.json"))
    assert code == 0
    assert "valid" in out
    assert err == ""


def test_validate_reports_every_error_with_state_and_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "validate", write(tmp_path, "bad.json", INVALID))
    assert code == 2
    assert out == ""
    assert "Missing" in err  # StartAt names a state that does not exist
    assert "Nexxt" in err  # an unknown field
    assert "'Done'" in err  # Succeed may not have Next
    assert len([line for line in err.splitlines() if line.strip().startswith("$")]) >= 3


def test_validate_refuses_text_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "validate", write(tmp_path, "bad.json", "{ not json"))
    assert code == 2
    assert "JSON" in err


def test_validate_a_file_that_does_not_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "validate", str(tmp_path / "nowhere.json"))
    assert code == 2
    assert out == ""
    assert "nowhere.json" in err


def test_run_prints_the_outcome_as_the_last_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = write(tmp_path, "functions.py", FUNCTIONS)
    code, out, _ = cli(
        capsys,
        "run",
        write(tmp_path, "m.json", CHARGE),
        "--functions",
        functions,
        "--input",
        '{"amount": 5}',
        "--virtual-time",
    )
    assert code == 0
    assert outcome(out) == {
        "status": "SUCCEEDED",
        "output": {"charged": 5},
        "error": None,
        "cause": None,
    }
    assert len(out.strip().splitlines()) == 1


def test_run_exits_zero_for_a_failed_execution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = write(tmp_path, "functions.py", FUNCTIONS)
    args = ("run", write(tmp_path, "m.json", CHARGE), "--functions", functions, "--virtual-time")
    code, out, _ = cli(capsys, *args, "--input", '{"amount": 5, "card": "bad"}')
    assert code == 0
    result = outcome(out)
    assert (result["status"], result["error"], result["output"]) == ("FAILED", "Declined", None)
    assert json.loads(result["cause"])["errorMessage"] == "card declined"


def test_run_with_history_prints_each_event_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = write(tmp_path, "functions.py", FUNCTIONS)
    code, out, _ = cli(
        capsys,
        "run",
        write(tmp_path, "m.json", CHARGE),
        "--functions",
        functions,
        "--input",
        '{"amount": 1, "card": "bad"}',
        "--virtual-time",
        "--history",
        "--seed",
        "3",
    )
    lines = [json.loads(line) for line in out.strip().splitlines()]
    events, result = lines[:-1], lines[-1]
    assert code == 0 and result["status"] == "FAILED"
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["type"] == "ExecutionStarted"
    assert events[-1]["type"] == "ExecutionFailed"
    assert [e["type"] for e in events].count("LambdaFunctionFailed") == 2
    delay = events[[e["type"] for e in events].index("LambdaFunctionFailed")][
        "lambdaFunctionFailedEventDetails"
    ]["retryDelaySeconds"]
    assert 0 <= delay <= 30


def test_run_with_a_seed_is_reproducible(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    functions = write(tmp_path, "functions.py", FUNCTIONS)
    args = (
        "run",
        write(tmp_path, "m.json", CHARGE),
        "--functions",
        functions,
        "--input",
        '{"amount": 1, "card": "bad"}',
    )
    first = cli(capsys, *args, "--virtual-time", "--history", "--seed", "9")[1]
    assert cli(capsys, *args, "--virtual-time", "--history", "--seed", "9")[1] == first


def test_run_refuses_an_invalid_definition_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "run", write(tmp_path, "bad.json", INVALID), "--input", "{}")
    assert code == 2
    assert out == ""
    assert "Nexxt" in err


@pytest.mark.parametrize("text", ["{not json", "", "{'single': 'quotes'}"])
def test_run_refuses_input_that_is_not_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    code, out, err = cli(capsys, "run", write(tmp_path, "m.json", CHARGE), "--input", text)
    assert code == 2
    assert out == ""
    assert "--input" in err


def test_run_refuses_functions_it_cannot_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(
        capsys, "run", write(tmp_path, "m.json", CHARGE), "--functions", str(tmp_path / "none.py")
    )
    assert code == 2
    assert out == ""
    assert "--functions" in err


def test_run_a_timed_out_execution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    definition = {
        "TimeoutSeconds": 60,
        "StartAt": "Nap",
        "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}},
    }
    code, out, _ = cli(capsys, "run", write(tmp_path, "m.json", definition), "--virtual-time")
    assert code == 0
    assert outcome(out)["status"] == "TIMED_OUT"


def test_run_a_machine_left_waiting_for_a_callback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "charge",
                    "Payload": {"amount": 1, "token.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
    functions = write(tmp_path, "functions.py", FUNCTIONS)
    code, out, _ = cli(
        capsys,
        "run",
        write(tmp_path, "m.json", definition),
        "--functions",
        functions,
        "--virtual-time",
    )
    assert code == 0
    assert outcome(out) == {"status": "RUNNING", "output": None, "error": None, "cause": None}


def test_the_installed_command_runs_the_example() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "apps.cli.main",
            "run",
            str(EXAMPLE / "aws-console.asl.json"),
            "--functions",
            str(EXAMPLE / "functions.py"),
            "--input",
            '{"statuscode": "999"}',
            "--virtual-time",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0
    assert outcome(completed.stdout)["error"] == "An error of unknown type occurred"
