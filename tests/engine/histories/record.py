"""Record the histories in this folder: `python -m tests.engine.histories.record`.

Each file holds a definition, the execution's events as an event store keeps them
(`HistoryEvent.to_record`) and the outcome AWS documents for that scenario. They are
recorded once and kept: test_recorded_histories.py replays them, so a change to the
engine that would strand histories already stored shows up as a failing test. Re-record
only on purpose.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stepstream.asl.local import LocalRunner, load_functions
from stepstream.asl.machine import load_machine

HERE = Path(__file__).parent
EXAMPLE = HERE.parents[2] / "examples" / "error-handling"
CALLBACK = "arn:aws:states:::lambda:invoke.waitForTaskToken"


def callback(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": CALLBACK,
        "Parameters": {
            "FunctionName": "publish",
            "Payload": {"token.$": "$$.Task.Token", "input.$": "$"},
        },
        **fields,
    }


class Inbox:
    def __init__(self) -> None:
        self.tokens: list[str] = []

    def __call__(self, event: Any, context: Any) -> None:
        self.tokens.append(event["token"])


def tutorial(local: LocalRunner, inbox: Inbox) -> None:
    local.run_until_idle()


def review_pending(local: LocalRunner, inbox: Inbox) -> None:
    local.settle()
    local.advance(30)


def review_answered_late(local: LocalRunner, inbox: Inbox) -> None:
    local.settle()
    for _ in range(3):
        local.advance(20)
        local.send_task_heartbeat(inbox.tokens[-1])
    local.run_until_idle()


def bounded_map(local: LocalRunner, inbox: Inbox) -> None:
    local.run_until_idle()
    answered = 0
    while local.execution.status == "RUNNING":
        token = inbox.tokens[answered]
        answered += 1
        if answered % 2:
            local.send_task_success(token, {"ok": answered})
        else:
            local.send_task_failure(token, "Rejected", f"item {answered}")
        local.run_until_idle()


def stopped(local: LocalRunner, inbox: Inbox) -> None:
    local.settle()
    local.advance(10)
    local.stop("Operator", "stopped by hand")


def timed_out(local: LocalRunner, inbox: Inbox) -> None:
    local.run_until_idle()


def redriven_twice(local: LocalRunner, inbox: Inbox) -> None:
    """Items 1 and 2 are approved, item 3 rejected (the Map fails, item 4 is aborted);
    after a redrive item 3 is approved and item 4 rejected; after a second, item 4 is
    approved."""
    local.settle()
    first = list(inbox.tokens[:3])
    for token, verdict in zip(first, ("ok", "ok", "no"), strict=True):
        _answer(local, token, verdict)
    local.redrive("first")
    local.settle()
    third, fourth = inbox.tokens[-2:]
    _answer(local, third, "ok")
    _answer(local, fourth, "no")
    local.redrive("second")
    local.settle()
    _answer(local, inbox.tokens[-1], "ok")


def _answer(local: LocalRunner, token: str, verdict: str) -> None:
    if verdict == "ok":
        local.send_task_success(token, {"ok": True})
    else:
        local.send_task_failure(token, "Rejected", "not this one")
    local.settle()


SCENARIOS: dict[str, tuple[Any, Any, Callable[[LocalRunner, Inbox], None], dict[str, Any]]] = {
    "tutorial-429-retries-waits-and-succeeds": (
        json.loads((EXAMPLE / "MyAPIStateMachine.asl.json").read_text()),
        {"statuscode": "429"},
        tutorial,
        {"status": "SUCCEEDED", "output": "The request has succeeded."},
    ),
    "tutorial-503-fails-as-server-unavailable": (
        json.loads((EXAMPLE / "aws-console.asl.json").read_text()),
        {"statuscode": "503"},
        tutorial,
        {"status": "FAILED", "error": "ServerUnavailable"},
    ),
    "review-waiting-for-an-operator": (
        {
            "StartAt": "Nap",
            "States": {
                "Nap": {"Type": "Wait", "Seconds": 15, "Next": "Review"},
                "Review": callback(HeartbeatSeconds=60, End=True),
            },
        },
        {"order": 7},
        review_pending,
        {"status": "RUNNING", "pendingTasks": 1},
    ),
    "review-heartbeats-then-heartbeat-timeout": (
        {
            "StartAt": "Review",
            "States": {"Review": callback(HeartbeatSeconds=25, TimeoutSeconds=3600, End=True)},
        },
        {"order": 8},
        review_answered_late,
        {"status": "FAILED", "error": "States.HeartbeatTimeout"},
    ),
    "map-of-callbacks-with-tolerated-failures": (
        {
            "StartAt": "Each",
            "States": {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "MaxConcurrency": 2,
                    "ToleratedFailureCount": 1,
                    "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": callback(End=True)}},
                    "Catch": [
                        {
                            "ErrorEquals": ["States.ExceedToleratedFailureThreshold"],
                            "Next": "Too many",
                        }
                    ],
                    "End": True,
                },
                "Too many": {"Type": "Fail", "Error": "TooManyRejected", "CausePath": "$.Cause"},
            },
        },
        {"items": [1, 2, 3, 4]},
        bounded_map,
        {"status": "FAILED", "error": "TooManyRejected"},
    ),
    "stopped-while-waiting": (
        {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}},
        {},
        stopped,
        {"status": "ABORTED", "error": "Operator"},
    ),
    "parallel-with-a-map-redriven-twice": (
        {
            "StartAt": "Both",
            "States": {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "Note", "States": {"Note": {"Type": "Pass", "End": True}}},
                        {
                            "StartAt": "Each",
                            "States": {
                                "Each": {
                                    "Type": "Map",
                                    "MaxConcurrency": 3,
                                    "ItemProcessor": {
                                        "StartAt": "Ask",
                                        "States": {"Ask": callback(End=True)},
                                    },
                                    "End": True,
                                }
                            },
                        },
                    ],
                    "End": True,
                }
            },
        },
        [1, 2, 3, 4],
        redriven_twice,
        {
            "status": "SUCCEEDED",
            "output": [[1, 2, 3, 4], [{"ok": True}, {"ok": True}, {"ok": True}, {"ok": True}]],
        },
    ),
    "execution-timed-out": (
        {"TimeoutSeconds": 45, "StartAt": "Review", "States": {"Review": callback(End=True)}},
        {},
        timed_out,
        {"status": "TIMED_OUT", "error": "States.Timeout"},
    ),
}


def record(name: str) -> dict[str, Any]:
    definition, execution_input, script, outcome = SCENARIOS[name]
    inbox = Inbox()
    functions: dict[str, Callable[[Any, Any], Any]] = {
        **load_functions(EXAMPLE / "functions.py"),
        "publish": inbox,
    }
    local = LocalRunner(
        load_machine(definition), functions=functions, seed=2026, execution_name=name
    )
    local.start(execution_input)
    script(local, inbox)
    return {
        "definition": definition,
        "executionArn": local.execution.state.execution_arn,
        "input": execution_input,
        "outcome": outcome,
        "events": [event.to_record() for event in local.history],
    }


def main() -> None:
    for name in SCENARIOS:
        (HERE / f"{name}.json").write_text(json.dumps(record(name), indent=1) + "\n")


if __name__ == "__main__":
    main()
