"""The execution history: Step Functions' event types, in Step Functions' order, numbered
1..n, each pointing at an earlier event, in time order; `to_aws()` renders an event as
GetExecutionHistory returns it (details under "<type>EventDetails", inputs and outputs as
JSON text).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from tests.engine.support import (
    Inbox,
    callback_task,
    invoke_task,
    lambda_task,
    machine,
    run,
    runner,
    types,
)

PASS = machine({"P": {"Type": "Pass", "End": True}})


def echo(event: Any, context: Any) -> Any:
    return event


def broken(event: Any, context: Any) -> Any:
    raise ValueError("broken")


FUNCTIONS = {"echo": echo, "broken": broken}

SCENARIOS: dict[str, tuple[dict[str, Any], Any, list[str]]] = {
    "pass": (
        PASS,
        {},
        ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
    ),
    "invoke task": (
        machine({"T": invoke_task("echo", End=True)}),
        {},
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded",
        ],
    ),
    "lambda arn task that fails": (
        machine({"T": lambda_task("broken", End=True)}),
        {},
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
            "LambdaFunctionFailed",
            "ExecutionFailed",
        ],
    ),
    "invoke task that fails": (
        machine({"T": invoke_task("broken", End=True)}),
        {},
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "ExecutionFailed",
        ],
    ),
    "wait then choice then succeed": (
        machine(
            {
                "W": {"Type": "Wait", "Seconds": 5, "Next": "C"},
                "C": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "S"}],
                    "Default": "F",
                },
                "S": {"Type": "Succeed"},
                "F": {"Type": "Fail", "Error": "No"},
            }
        ),
        {"go": True},
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "ChoiceStateEntered",
            "ChoiceStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded",
        ],
    ),
    "fail": (
        machine({"F": {"Type": "Fail", "Error": "E"}}),
        {},
        ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"],
    ),
    "map of one item": (
        machine(
            {
                "M": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "I",
                        "States": {"I": {"Type": "Pass", "End": True}},
                    },
                    "End": True,
                }
            }
        ),
        [1],
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapIterationStarted",
            "PassStateEntered",
            "PassStateExited",
            "MapIterationSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded",
        ],
    ),
    "parallel of one branch": (
        machine(
            {
                "Par": {
                    "Type": "Parallel",
                    "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}}],
                    "End": True,
                }
            }
        ),
        {},
        [
            "ExecutionStarted",
            "ParallelStateEntered",
            "ParallelStateStarted",
            "PassStateEntered",
            "PassStateExited",
            "ParallelStateSucceeded",
            "ParallelStateExited",
            "ExecutionSucceeded",
        ],
    ),
    "retried then caught": (
        machine(
            {
                "T": lambda_task(
                    "broken",
                    Retry=[{"ErrorEquals": ["ValueError"], "MaxAttempts": 1}],
                    Catch=[{"ErrorEquals": ["States.ALL"], "Next": "R"}],
                    End=True,
                ),
                "R": {"Type": "Pass", "End": True},
            }
        ),
        {},
        ["ExecutionStarted", "TaskStateEntered"]
        + ["LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed"] * 2
        + ["TaskStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"],
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_event_types_in_order(name: str) -> None:
    definition, execution_input, expected = SCENARIOS[name]
    assert types(run(definition, execution_input, FUNCTIONS).history) == expected


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_ids_count_from_one_and_point_back_and_time_never_goes_backwards(name: str) -> None:
    definition, execution_input, _ = SCENARIOS[name]
    history = run(definition, execution_input, FUNCTIONS).history
    assert [e.id for e in history] == list(range(1, len(history) + 1))
    assert history[0].previous_event_id == 0
    assert all(0 < e.previous_event_id < e.id for e in history[1:])
    assert all(a.timestamp <= b.timestamp for a, b in itertools.pairwise(history))
    assert all(e.timestamp.tzinfo is not None for e in history)


def test_events_inside_branches_and_iterations_name_their_scope() -> None:
    definition = machine(
        {
            "Par": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {
                        "StartAt": "M",
                        "States": {
                            "M": {
                                "Type": "Map",
                                "ItemProcessor": {
                                    "StartAt": "I",
                                    "States": {"I": {"Type": "Pass", "End": True}},
                                },
                                "End": True,
                            }
                        },
                    },
                ],
                "End": True,
            }
        }
    )
    history = run(definition, [7, 8]).history
    scoped = {(e.type, e.details.name, e.scope) for e in history if e.type == "PassStateEntered"}  # type: ignore[union-attr]
    assert scoped == {
        ("PassStateEntered", "A", "/0"),
        ("PassStateEntered", "I", "/1/0"),
        ("PassStateEntered", "I", "/1/1"),
    }
    assert {e.scope for e in history if e.type.startswith("Execution")} == {""}


def aws(local: LocalRunner, kind: str) -> dict[str, Any]:
    [event] = [e.to_aws() for e in local.history if e.type == kind]
    return event


def test_to_aws_renders_the_get_execution_history_shape() -> None:
    local = run(machine({"T": invoke_task("echo", End=True)}), {"a": 1}, FUNCTIONS)
    started = aws(local, "ExecutionStarted")
    assert set(started) == {
        "timestamp",
        "type",
        "id",
        "previousEventId",
        "executionStartedEventDetails",
    }
    assert started["id"] == 1 and started["previousEventId"] == 0
    assert json.loads(started["executionStartedEventDetails"]["input"]) == {"a": 1}
    scheduled = aws(local, "TaskScheduled")["taskScheduledEventDetails"]
    assert scheduled["resourceType"] == "lambda" and scheduled["resource"] == "invoke"
    assert json.loads(scheduled["parameters"]) == {"FunctionName": "echo", "Payload": {"a": 1}}
    assert aws(local, "TaskStarted")["taskStartedEventDetails"] == {
        "resourceType": "lambda",
        "resource": "invoke",
    }
    succeeded = aws(local, "TaskSucceeded")["taskSucceededEventDetails"]
    assert json.loads(succeeded["output"])["Payload"] == {"a": 1}
    entered = aws(local, "TaskStateEntered")["stateEnteredEventDetails"]
    assert entered == {"name": "T", "input": '{"a":1}'}
    exited = aws(local, "TaskStateExited")["stateExitedEventDetails"]
    assert exited["name"] == "T" and isinstance(exited["output"], str)
    output = json.loads(
        aws(local, "ExecutionSucceeded")["executionSucceededEventDetails"]["output"]
    )
    assert output["StatusCode"] == 200
    assert all("scope" not in e.to_aws() for e in local.history)


def test_to_aws_failure_and_map_details() -> None:
    definition = machine(
        {
            "M": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "T", "States": {"T": lambda_task("broken", End=True)}},
                "End": True,
            }
        }
    )
    local = run(definition, [1], FUNCTIONS)
    failed = aws(local, "LambdaFunctionFailed")
    assert failed["lambdaFunctionFailedEventDetails"]["error"] == "ValueError"
    assert failed["scope"] == "/0"
    assert aws(local, "MapStateStarted")["mapStateStartedEventDetails"] == {"length": 1}
    assert aws(local, "MapIterationStarted")["mapIterationStartedEventDetails"] == {
        "name": "M",
        "index": 0,
    }
    assert aws(local, "MapIterationFailed")["mapIterationFailedEventDetails"] == {
        "name": "M",
        "index": 0,
    }
    assert aws(local, "MapStateFailed")["stateFailedEventDetails"]["error"] == "ValueError"
    assert aws(local, "ExecutionFailed")["executionFailedEventDetails"]["error"] == "ValueError"
    assert "stateEnteredEventDetails" in aws(local, "MapStateEntered")


def test_to_aws_renders_timestamps_as_iso_text() -> None:
    event = run(PASS).history[0].to_aws()
    assert event["timestamp"] == "2026-01-01T00:00:00+00:00"


def test_the_history_shows_virtual_time_between_retries() -> None:
    retry = [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 2}]
    local = run(machine({"T": lambda_task("broken", Retry=retry, End=True)}), {}, FUNCTIONS)
    scheduled = [
        e.timestamp.isoformat() for e in local.history if e.type == "LambdaFunctionScheduled"
    ]
    assert scheduled == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:10+00:00",
        "2026-01-01T00:00:30+00:00",
    ]


def test_stop_aborts_the_execution() -> None:
    inbox = Inbox()
    local = runner(machine({"Ask": callback_task(End=True)}), {"publish": inbox})
    local.run({})
    local.advance(12)
    local.stop("Operator", "changed their mind")
    assert local.result() == {
        "status": "ABORTED",
        "output": None,
        "error": "Operator",
        "cause": "changed their mind",
    }
    last = local.history[-1]
    assert last.type == "ExecutionAborted"
    assert last.to_aws()["executionAbortedEventDetails"] == {
        "error": "Operator",
        "cause": "changed their mind",
    }
    assert (last.timestamp - local.history[0].timestamp).total_seconds() == 12
    assert local.execution.pending_tasks() == [] and local.execution.timers() == []


def test_stop_without_reason_and_stop_after_the_end_change_nothing_more() -> None:
    local = runner(machine({"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}))
    local.start({})
    local.stop()
    assert local.execution.status == "ABORTED"
    assert local.history[-1].to_aws().get("executionAbortedEventDetails", {}) == {}
    length = len(local.history)
    local.stop("Again")
    local.run_until_idle()
    assert len(local.history) == length
    done = run(PASS)
    done.stop("Late")
    assert done.execution.status == "SUCCEEDED"
    assert types(done.history)[-1] == "ExecutionSucceeded"
