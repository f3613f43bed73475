"""Replay: the history alone is the execution.

The orchestrator persists every event and, after a crash, rebuilds an execution from its
stored history and carries on. So, after every decision (the start, each task answer,
each heartbeat, each timer), rebuilding from the events so far must give exactly the live
state, and the rebuilt execution handed the same message must decide the same events.
`ReplayingRunner` checks both at every step of every scenario here.
(test_replay_properties.py lets hypothesis build the machines and the interleavings.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.local import load_functions
from stepstream.asl.machine import load_machine
from stepstream.asl.messages import TaskResult
from tests.engine.support import (
    Inbox,
    ReplayingRunner,
    callback_task,
    invoke_task,
    lambda_task,
    machine,
    replaying,
    stored,
)

EXAMPLE = Path(__file__).parents[2] / "examples" / "error-handling"

Script = Callable[[ReplayingRunner, Inbox], None]


class Broken(Exception):
    pass


def flaky_by_input(event: Any, context: Any) -> Any:
    """Fails for an event marked bad, succeeds otherwise."""
    if event.get("bad"):
        raise Broken(f"item {event.get('id')} is bad")
    return {"done": event.get("id")}


def run_to_end(local: ReplayingRunner, inbox: Inbox) -> None:
    local.run_until_idle()


def answer_all(outcome: str = "success") -> Script:
    """Answer every callback as it appears, newest first, until nothing is pending."""

    def script(local: ReplayingRunner, inbox: Inbox) -> None:
        local.run_until_idle()
        answered: set[str] = set()
        while local.execution.status == "RUNNING":
            fresh = [t for t in inbox.tokens if t not in answered]
            if not fresh:
                break
            token = fresh[-1]
            answered.add(token)
            if outcome == "success":
                local.send_task_success(token, {"answered": len(answered)})
            else:
                local.send_task_failure(token, "Rejected", f"answer {len(answered)}")
            local.run_until_idle()

    return script


def heartbeats_then_silence(local: ReplayingRunner, inbox: Inbox) -> None:
    local.settle()
    for _ in range(3):
        local.advance(4)
        local.send_task_heartbeat(inbox.tokens[-1])
    local.run_until_idle()


def stop_midway(local: ReplayingRunner, inbox: Inbox) -> None:
    local.settle()
    local.advance(5)
    local.stop("Operator", "stopped by hand")


def tutorial(statuscode: str, file: str = "MyAPIStateMachine.asl.json") -> tuple[Any, ...]:
    definition = json.loads((EXAMPLE / file).read_text())
    return (
        definition,
        {"statuscode": statuscode},
        load_functions(EXAMPLE / "functions.py"),
        run_to_end,
    )


BRANCHES = [
    {"StartAt": "Ask", "States": {"Ask": callback_task(End=True)}},
    {
        "StartAt": "Nap",
        "States": {
            "Nap": {"Type": "Wait", "Seconds": 5, "Next": "Maybe break"},
            "Maybe break": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.breaks", "BooleanEquals": True, "Next": "Break"}],
                "Default": "Fine",
            },
            "Break": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"},
            "Fine": {"Type": "Pass", "End": True},
        },
    },
]

MAP_OF_CALLBACKS = machine(
    {
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 2,
            "ItemSelector": {"n.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"},
            "ItemProcessor": {
                "StartAt": "Ask",
                "States": {
                    "Ask": callback_task(
                        Retry=[
                            {
                                "ErrorEquals": ["Rejected"],
                                "IntervalSeconds": 3,
                                "JitterStrategy": "FULL",
                                "MaxAttempts": 1,
                            }
                        ],
                        End=True,
                    )
                },
            },
            "ToleratedFailureCount": 2,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gave up"}],
            "End": True,
        },
        "Gave up": {"Type": "Pass", "End": True},
    }
)

JSONATA_MACHINE = machine(
    {
        "Set": {"Type": "Pass", "Assign": {"rate": "{% $states.input.rate %}"}, "Next": "Each"},
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "ItemProcessor": {
                "StartAt": "Scale",
                "States": {
                    "Scale": {
                        "Type": "Pass",
                        "Output": "{% $states.input * $rate %}",
                        "Assign": {"last": "{% $states.input %}"},
                        "End": True,
                    }
                },
            },
            "Assign": {"total": "{% $sum($states.result) %}"},
            "Next": "Route",
        },
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $total > 10 %}",
                    "Next": "Big",
                    "Output": {"total": "{% $total %}"},
                }
            ],
            "Default": "Small",
        },
        "Big": {"Type": "Wait", "Seconds": 60, "Next": "Done"},
        "Small": {"Type": "Succeed"},
        "Done": {"Type": "Succeed"},
    },
    QueryLanguage="JSONata",
)

SCENARIOS: dict[str, tuple[Any, ...]] = {
    "tutorial 200": tutorial("200"),
    "tutorial 429": tutorial("429"),
    "tutorial 503": tutorial("503"),
    "tutorial 999 console form": tutorial("999", "aws-console.asl.json"),
    "tutorial 429 console form": tutorial("429", "aws-console.asl.json"),
    "jittered retries then catch": (
        machine(
            {
                "Call": invoke_task(
                    "flaky",
                    Retry=[
                        {
                            "ErrorEquals": ["Broken"],
                            "IntervalSeconds": 2,
                            "BackoffRate": 3,
                            "MaxAttempts": 4,
                            "MaxDelaySeconds": 20,
                            "JitterStrategy": "FULL",
                        }
                    ],
                    Catch=[
                        {"ErrorEquals": ["States.ALL"], "Next": "Recover", "ResultPath": "$.error"}
                    ],
                    End=True,
                ),
                "Recover": {"Type": "Pass", "End": True},
            }
        ),
        {"bad": True, "id": 1},
        {"flaky": flaky_by_input},
        run_to_end,
    ),
    "parallel whose branch fails while a sibling waits": (
        machine(
            {
                "Both": {
                    "Type": "Parallel",
                    "Branches": BRANCHES,
                    "Retry": [{"ErrorEquals": ["Broken"], "MaxAttempts": 1}],
                    "End": True,
                }
            }
        ),
        {"breaks": True},
        {},
        answer_all(),
    ),
    "parallel that succeeds after an answer": (
        machine({"Both": {"Type": "Parallel", "Branches": BRANCHES, "End": True}}),
        {"breaks": False},
        {},
        answer_all(),
    ),
    "map of callbacks, bounded, answered newest first": (
        MAP_OF_CALLBACKS,
        {"items": [1, 2, 3, 4, 5]},
        {},
        answer_all(),
    ),
    "map of callbacks, all rejected": (
        MAP_OF_CALLBACKS,
        {"items": [1, 2, 3, 4]},
        {},
        answer_all("failure"),
    ),
    "map of lambdas with tolerated failures": (
        machine(
            {
                "Each": {
                    "Type": "Map",
                    "ItemsPath": "$.items",
                    "ToleratedFailurePercentage": 50,
                    "ItemProcessor": {
                        "StartAt": "Check",
                        "States": {"Check": lambda_task("flaky", End=True)},
                    },
                    "End": True,
                }
            }
        ),
        {"items": [{"id": 1}, {"id": 2, "bad": True}, {"id": 3}]},
        {"flaky": flaky_by_input},
        run_to_end,
    ),
    "map inside parallel inside map": (
        machine(
            {
                "Outer": {
                    "Type": "Map",
                    "ItemProcessor": {
                        "StartAt": "Split",
                        "States": {
                            "Split": {
                                "Type": "Parallel",
                                "Branches": [
                                    {
                                        "StartAt": "Inner",
                                        "States": {
                                            "Inner": {
                                                "Type": "Map",
                                                "ItemProcessor": {
                                                    "StartAt": "Nap",
                                                    "States": {
                                                        "Nap": {
                                                            "Type": "Wait",
                                                            "SecondsPath": "$",
                                                            "End": True,
                                                        }
                                                    },
                                                },
                                                "End": True,
                                            }
                                        },
                                    },
                                    {
                                        "StartAt": "Count",
                                        "States": {
                                            "Count": {
                                                "Type": "Pass",
                                                "Parameters": {"n.$": "States.ArrayLength($)"},
                                                "End": True,
                                            }
                                        },
                                    },
                                ],
                                "End": True,
                            }
                        },
                    },
                    "End": True,
                }
            }
        ),
        [[1, 2], [3], []],
        {},
        run_to_end,
    ),
    "heartbeats then silence": (
        machine({"Ask": callback_task(HeartbeatSeconds=5, TimeoutSeconds=100, End=True)}),
        {},
        {},
        heartbeats_then_silence,
    ),
    "execution timeout during a callback": (
        machine({"Ask": callback_task(End=True)}, TimeoutSeconds=30),
        {},
        {},
        run_to_end,
    ),
    "stopped by an operator": (
        machine(
            {"Nap": {"Type": "Wait", "Seconds": 60, "Next": "Ask"}, "Ask": callback_task(End=True)}
        ),
        {},
        {},
        stop_midway,
    ),
    "jsonata with variables, map and choice": (
        JSONATA_MACHINE,
        {"items": [1, 2, 3], "rate": 2},
        {},
        run_to_end,
    ),
    "callback rejected, retried, caught": (
        machine(
            {
                "Ask": callback_task(
                    Retry=[{"ErrorEquals": ["Rejected"], "IntervalSeconds": 10, "MaxAttempts": 2}],
                    Catch=[
                        {
                            "ErrorEquals": ["Rejected"],
                            "Next": "Escalate",
                            "Assign": {"why.$": "$.Cause"},
                        }
                    ],
                    End=True,
                ),
                "Escalate": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": True},
            }
        ),
        {},
        {},
        answer_all("failure"),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_decision_replays_to_the_same_state_and_events(name: str) -> None:
    definition, execution_input, functions, script = SCENARIOS[name]
    inbox = Inbox()
    local = replaying(definition, {**functions, "publish": inbox}, seed=5)
    local.start(execution_input)
    script(local, inbox)
    assert local.decisions >= 2
    assert local.execution.status in ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")


def test_records_round_trip_exactly() -> None:
    inbox = Inbox()
    local = replaying(MAP_OF_CALLBACKS, {"publish": inbox})
    local.start({"items": [1, 2, 3]})
    answer_all("failure")(local, inbox)
    for event in local.history:
        assert HistoryEvent.from_record(event.to_record()) == event
    assert stored(local.history) == local.history


def test_a_rebuilt_execution_takes_over_a_waiting_one() -> None:
    inbox = Inbox()
    local = replaying(
        machine(
            {
                "Nap": {"Type": "Wait", "Seconds": 30, "Next": "Ask"},
                "Ask": callback_task(ResultPath="$.answer", End=True),
            }
        ),
        {"publish": inbox},
    )
    local.run({"order": 1})
    arn = local.execution.state.execution_arn
    rebuilt = Execution.from_history(
        load_machine(local.execution.state.machine.source), stored(local.history), execution_arn=arn
    )
    [task] = rebuilt.pending_tasks()
    assert rebuilt.task_for_token(inbox.tokens[0]) == task
    decision = rebuilt.handle(
        TaskResult(task.task_id, "yes"), clock=local.clock, entropy=local.entropy
    )
    assert rebuilt.status == "SUCCEEDED"
    assert rebuilt.output == {"order": 1, "answer": "yes"}
    assert decision.events[0].id == len(local.history) + 1
