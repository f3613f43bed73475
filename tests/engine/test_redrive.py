"""Redrive: an execution that failed, timed out or was aborted resumes where it stopped.

From the Step Functions guide ("Restarting state machine executions with redrive"): the
same ARN, input and definition; the states that succeeded are not run again; inside a
Parallel or an inline Map only the branches or iterations that failed or were aborted run
again; the state machine's TimeoutSeconds starts again; the history records
ExecutionRedriven with the redrive count, which `$$.Execution.RedriveCount` shows. A
running or succeeded execution is not redrivable.

Every run here goes through the replaying runner, so each decision, the redrive included,
is also checked to rebuild exactly from the history alone.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepstream.asl import redrive
from stepstream.asl.redrive import NotRedrivable
from tests.engine.support import (
    Inbox,
    ReplayingRunner,
    callback_task,
    details,
    entered,
    lambda_task,
    machine,
    of_type,
    replaying,
    types,
)


class Flaky:
    """Lambda functions that fail a set number of times per input, then echo it."""

    def __init__(self, failures: dict[Any, int] | None = None, default: int = 0) -> None:
        self.failures = {repr(key): count for key, count in (failures or {}).items()}
        self.default = default
        self.calls: Counter[str] = Counter()
        self.successes: Counter[str] = Counter()

    def __call__(self, event: Any, context: Any) -> Any:
        key = repr(event)
        self.calls[key] += 1
        if self.calls[key] <= self.failures.get(key, self.default):
            raise ConnectionError(f"attempt {self.calls[key]} for {key}")
        self.successes[key] += 1
        return event


def redriven(local: ReplayingRunner, client_token: str | None = None) -> ReplayingRunner:
    local.redrive(client_token)
    local.run_until_idle()
    return local


# -- a Task ----------------------------------------------------------------------------


def chain() -> dict[str, Any]:
    return machine(
        {
            "Prepare": {
                "Type": "Pass",
                "Result": {"n": 1},
                "ResultPath": "$.prepared",
                "Next": "Count",
            },
            "Count": lambda_task("count", ResultPath="$.counted", Next="Charge"),
            "Charge": lambda_task(
                "charge", InputPath="$.prepared", ResultPath="$.charged", End=True
            ),
        }
    )


def test_a_failed_task_is_where_the_redrive_resumes_and_nothing_before_runs_again() -> None:
    count, charge = Flaky(), Flaky(default=1)
    local = replaying(chain(), {"count": count, "charge": charge})
    local.run({"order": 7})
    assert (local.execution.status, local.execution.error) == ("FAILED", "ConnectionError")
    failed_at = len(local.history)

    redriven(local)

    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == {
        "order": 7,
        "prepared": {"n": 1},
        "counted": {"order": 7, "prepared": {"n": 1}},
        "charged": {"n": 1},
    }
    after = local.history[failed_at:]
    assert types(after)[:2] == ["ExecutionRedriven", "TaskStateEntered"]
    assert entered(after) == ["Charge"]
    assert (
        details(after[1])["input"]
        == details(of_type(local.history, "TaskStateEntered")[1])["input"]
    )
    assert count.calls == Counter({repr({"order": 7, "prepared": {"n": 1}}): 1})
    assert charge.successes == Counter({repr({"n": 1}): 1})


def test_the_history_records_the_redrive_and_the_execution_counts_it() -> None:
    local = replaying(chain(), {"count": Flaky(), "charge": Flaky(default=2)})
    local.run({})
    local.redrive()
    local.run_until_idle()
    assert local.execution.status == "FAILED"
    redriven(local)
    [first, second] = of_type(local.history, "ExecutionRedriven")
    assert [first.to_aws()["executionRedrivenEventDetails"], details(second)["redriveCount"]] == [
        {"redriveCount": 1},
        2,
    ]
    assert local.execution.state.redrive_count == 2
    assert local.execution.state.redrive_date == second.timestamp


def test_retry_counts_start_again_after_a_redrive() -> None:
    retry = [{"ErrorEquals": ["ConnectionError"], "MaxAttempts": 2, "IntervalSeconds": 1}]
    definition = machine({"Call": lambda_task("call", Retry=retry, End=True)})
    # Three attempts fail the first run (one try, two retries); had the count carried on,
    # the fourth failure would end the redriven run too; counted afresh, it is retried.
    call = Flaky(default=4)
    local = replaying(definition, {"call": call})
    local.run({"id": 1})
    assert local.execution.status == "FAILED"
    assert sum(call.calls.values()) == 3

    redriven(local)

    assert local.execution.status == "SUCCEEDED"
    assert sum(call.calls.values()) == 5


def test_the_context_object_shows_the_redrive_count() -> None:
    definition = machine(
        {
            "Call": lambda_task("call", ResultPath=None, Next="Report"),
            "Report": {
                "Type": "Pass",
                "Parameters": {"count.$": "$$.Execution.RedriveCount"},
                "End": True,
            },
        }
    )
    local = replaying(definition, {"call": Flaky(default=2)})
    local.run({})
    local.redrive()
    local.run_until_idle()
    redriven(local)
    assert local.execution.output == {"count": 2}


def test_the_execution_timeout_starts_again_from_the_redrive() -> None:
    inbox = Inbox()
    definition = machine({"Review": callback_task(End=True)}, TimeoutSeconds=60)
    local = replaying(definition, {"publish": inbox})
    local.run({"order": 1})
    local.advance(60)
    assert local.execution.status == "TIMED_OUT"
    local.advance(100)  # an operator comes back later

    local.redrive()
    local.settle()
    assert len(inbox.tokens) == 2
    local.advance(59)  # 219 s after the start: long past the first deadline
    local.send_task_success(inbox.tokens[-1], {"approved": True})

    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", {"approved": True})


def test_an_execution_that_times_out_again_is_timed_out_from_the_redrive() -> None:
    definition = machine({"Review": callback_task(End=True)}, TimeoutSeconds=60)
    local = replaying(definition, {"publish": Inbox()})
    local.run({})
    local.advance(60)
    local.advance(30)
    local.redrive()
    local.advance(59)
    assert local.execution.status == "RUNNING"
    local.advance(1)
    assert local.execution.status == "TIMED_OUT"
    assert local.execution.state.stop_date == local.execution.state.redrive_date + timedelta(
        seconds=60
    )


def test_an_aborted_execution_resumes_the_task_it_was_waiting_on() -> None:
    inbox = Inbox()
    definition = machine(
        {
            "First": lambda_task("first", Next="Review"),
            "Review": callback_task(End=True),
        }
    )
    first = Flaky()
    local = replaying(definition, {"first": first, "publish": inbox})
    local.run({"a": 1})
    local.stop("Operator", "paused for a look")
    assert local.execution.status == "ABORTED"

    redriven(local)

    assert local.execution.status == "RUNNING"
    assert len(inbox.tokens) == 2 and inbox.tokens[0] != inbox.tokens[1]
    local.send_task_success(inbox.tokens[1], "done")
    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", "done")
    assert sum(first.calls.values()) == 1


def test_a_fail_state_fails_again_when_redriven() -> None:
    definition = machine({"Stop": {"Type": "Fail", "Error": "Closed", "Cause": "shop closed"}})
    local = replaying(definition)
    local.run({})
    redriven(local)
    assert (local.execution.status, local.execution.error) == ("FAILED", "Closed")
    assert types(local.history)[-3:] == ["ExecutionRedriven", "FailStateEntered", "ExecutionFailed"]


# -- Parallel ----------------------------------------------------------------------------


def branch(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in states]
    body = {
        name: {**state, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
        for i, (name, state) in enumerate(states)
    }
    return {"StartAt": names[0], "States": body}


def test_only_the_failed_branch_of_a_parallel_runs_again_from_where_it_failed() -> None:
    definition = machine(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    branch(("Reserve", lambda_task("reserve"))),
                    branch(
                        ("Tag", {"Type": "Pass", "Result": "tagged"}),
                        ("Ship", lambda_task("ship")),
                    ),
                ],
                "End": True,
            }
        }
    )
    reserve, ship = Flaky(), Flaky(default=1)
    local = replaying(definition, {"reserve": reserve, "ship": ship})
    local.run({})
    assert local.execution.status == "FAILED"
    failed_at = len(local.history)

    redriven(local)

    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", [{}, "tagged"])
    after = local.history[failed_at:]
    assert entered(after) == ["Ship"]
    assert [event.scope for event in after if event.type == "TaskStateEntered"] == ["/1"]
    assert sum(reserve.calls.values()) == 1
    assert types(after)[-3:] == [
        "ParallelStateSucceeded",
        "ParallelStateExited",
        "ExecutionSucceeded",
    ]


def test_a_branch_aborted_by_its_sibling_failing_runs_again_too() -> None:
    inbox = Inbox()
    definition = machine(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    branch(("Wait", callback_task())),
                    branch(("Check", lambda_task("check"))),
                    branch(("Note", {"Type": "Pass", "Result": "noted"})),
                ],
                "End": True,
            }
        }
    )
    local = replaying(definition, {"publish": inbox, "check": Flaky(default=1)})
    local.run("x")
    assert local.execution.status == "FAILED"
    failed_at = len(local.history)

    local.redrive()
    local.settle()
    local.send_task_success(inbox.tokens[-1], "answered")

    assert (local.execution.status, local.execution.output) == (
        "SUCCEEDED",
        ["answered", "x", "noted"],
    )
    assert sorted(entered(local.history[failed_at:])) == ["Check", "Wait"]


# -- inline Map --------------------------------------------------------------------------


def items_machine(**fields: Any) -> dict[str, Any]:
    processor = {"StartAt": "Handle", "States": {"Handle": lambda_task("handle", End=True)}}
    return machine({"Each": {"Type": "Map", "ItemProcessor": processor, "End": True, **fields}})


def test_only_the_failed_and_aborted_iterations_of_a_map_run_again() -> None:
    handle = Flaky({2: 1, 4: 1})
    local = replaying(items_machine(MaxConcurrency=2), {"handle": handle})
    local.run([0, 1, 2, 3, 4, 5])
    assert local.execution.status == "FAILED"
    done_before = dict(handle.successes)
    failed_at = len(local.history)

    redriven(local)
    assert local.execution.status == "FAILED"  # item 4 fails on its first go, after the redrive
    redriven(local)

    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", [0, 1, 2, 3, 4, 5])
    assert all(count == 1 for count in handle.successes.values())
    restarted = [
        details(e)["index"] for e in of_type(local.history[failed_at:], "MapIterationStarted")
    ]
    assert set(done_before) == {"0", "1"}
    assert 0 not in restarted and 1 not in restarted


def test_a_map_aborted_midway_resumes_its_open_iterations_and_starts_the_rest() -> None:
    inbox = Inbox()
    processor = {"StartAt": "Ask", "States": {"Ask": callback_task(End=True)}}
    definition = machine(
        {"Each": {"Type": "Map", "ItemProcessor": processor, "MaxConcurrency": 2, "End": True}}
    )
    local = replaying(definition, {"publish": inbox})
    local.run(["a", "b", "c", "d"])
    local.send_task_success(inbox.token_for("a"), "A")
    local.settle()  # "c" took the freed slot
    local.stop()
    asked = len(inbox.received)

    local.redrive()
    local.settle()

    reasked = [message["input"] for message in inbox.received[asked:]]
    assert reasked == ["b", "c"]  # the open ones again; "a" keeps its answer; "d" waits
    local.send_task_success(inbox.received[asked]["token"], "B")
    local.settle()  # "d" takes the freed slot
    tokens = {message["input"]: message["token"] for message in inbox.received[asked:]}
    assert set(tokens) == {"b", "c", "d"}
    local.send_task_success(tokens["c"], "C")
    local.send_task_success(tokens["d"], "D")
    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", ["A", "B", "C", "D"])


def test_a_map_that_tolerated_failures_and_succeeded_has_nothing_left_over() -> None:
    local = replaying(items_machine(ToleratedFailureCount=1), {"handle": Flaky({1: 1})})
    local.run([0, 1, 2])
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.state.retired == {}
    with pytest.raises(NotRedrivable, match="Execution is SUCCEEDED and cannot be redriven"):
        local.redrive()


@settings(max_examples=40, deadline=None)
@given(
    failures=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=6),
    concurrency=st.integers(min_value=0, max_value=3),
    nested=st.booleans(),
)
def test_redriving_until_success_runs_every_item_to_success_exactly_once(
    failures: list[int], concurrency: int, nested: bool
) -> None:
    """Whatever fails when, each redrive picks up only what did not succeed."""
    items = list(range(len(failures)))
    handle = Flaky(dict(enumerate(failures)))
    definition = items_machine(MaxConcurrency=concurrency)
    if nested:  # the same Map inside one branch of a Parallel, beside a branch that succeeds
        inner = definition["States"]["Each"]
        definition = machine(
            {
                "Both": {
                    "Type": "Parallel",
                    "Branches": [
                        {"StartAt": "Side", "States": {"Side": {"Type": "Pass", "End": True}}},
                        {"StartAt": "Each", "States": {"Each": inner}},
                    ],
                    "OutputPath": "$[1]",
                    "End": True,
                }
            }
        )
    local = replaying(definition, {"handle": handle})
    local.run(items)
    redrives = 0
    while local.execution.status == "FAILED":
        assert redrives <= sum(failures)
        redriven(local)
        redrives += 1
    assert (local.execution.status, local.execution.output) == ("SUCCEEDED", items)
    assert handle.successes == Counter({repr(item): 1 for item in items})
    assert local.execution.state.redrive_count == redrives


# -- who may be redriven -------------------------------------------------------------------


def test_a_running_execution_is_not_redrivable() -> None:
    local = replaying(machine({"Review": callback_task(End=True)}), {"publish": Inbox()})
    local.run({})
    with pytest.raises(NotRedrivable, match=r"^Execution is RUNNING and cannot be redriven$"):
        local.redrive()


def test_a_succeeded_execution_is_not_redrivable() -> None:
    local = replaying(machine({"Done": {"Type": "Pass", "End": True}}))
    local.run({})
    with pytest.raises(NotRedrivable) as refused:
        local.redrive()
    assert refused.value.reason == "Execution is SUCCEEDED and cannot be redriven"


def test_fourteen_days_after_it_stopped_an_execution_is_no_longer_redrivable() -> None:
    local = replaying(machine({"Stop": {"Type": "Fail", "Error": "E"}}))
    local.run({})
    local.clock.advance(14 * 24 * 3600)  # type: ignore[attr-defined]
    local.redrive()  # exactly 14 days: still within the period
    local.clock.advance(14 * 24 * 3600 + 1)  # type: ignore[attr-defined]
    with pytest.raises(NotRedrivable, match="Execution redrivable period exceeded"):
        local.redrive()


@pytest.mark.parametrize(
    ("status", "started_days_ago", "stopped_days_ago", "events", "reason"),
    [
        ("FAILED", 1, 1, 10, None),
        ("TIMED_OUT", 1, 0, 10, None),
        ("ABORTED", 20, 13, 10, None),
        ("RUNNING", 1, None, 10, "Execution is RUNNING and cannot be redriven"),
        ("SUCCEEDED", 1, 1, 10, "Execution is SUCCEEDED and cannot be redriven"),
        ("FAILED", 20, 15, 10, "Execution redrivable period exceeded"),
        ("FAILED", 366, 1, 10, "Execution has exceeded the max execution time"),
        ("FAILED", 1, 1, 24_998, None),
        ("FAILED", 1, 1, 24_999, "Execution history event limit exceeded"),
    ],
)
def test_which_executions_are_redrivable(
    status: str,
    started_days_ago: int,
    stopped_days_ago: int | None,
    events: int,
    reason: str | None,
) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    days = timedelta(days=1)
    found = redrive.refusal(
        status,
        start_date=now - started_days_ago * days,
        stop_date=None if stopped_days_ago is None else now - stopped_days_ago * days,
        history_length=events,
        now=now,
    )
    assert found == reason
    shown = redrive.redrive_status(found)
    assert shown["redriveStatus"] == ("REDRIVABLE" if reason is None else "NOT_REDRIVABLE")
    assert shown.get("redriveStatusReason") == reason
