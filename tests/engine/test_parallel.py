"""Parallel: every branch runs on the same input; the result lists their outputs in branch
order. From the Step Functions guide ("Parallel state"): if any branch fails, the whole
Parallel fails with that branch's error and the other branches are stopped; Retry and
Catch on the Parallel treat it as one unit, so a retry runs every branch again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from stepstream.asl.execution import TaskNotPending
from stepstream.asl.messages import TaskResult
from tests.engine.support import (
    Inbox,
    callback_task,
    details,
    entered,
    lambda_task,
    machine,
    of_type,
    run,
    runner,
    types,
)


def branch(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A branch of states chained in the order given; the last one ends it."""
    names = [name for name, _ in states]
    body: dict[str, Any] = {}
    for position, (name, state) in enumerate(states):
        link = {"Next": names[position + 1]} if position + 1 < len(names) else {"End": True}
        body[name] = {**state, **link} if state["Type"] not in ("Succeed", "Fail") else state
    return {"StartAt": names[0], "States": body}


def parallel(*branches: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Parallel", "Branches": list(branches), **fields}


class Broken(Exception):
    pass


def test_outputs_are_in_branch_order_whatever_finishes_first() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(
                    ("Slow", {"Type": "Wait", "Seconds": 10}),
                    ("SlowResult", {"Type": "Pass", "Result": "slow"}),
                ),
                branch(("Fast", {"Type": "Pass", "Result": "fast"})),
                End=True,
            )
        }
    )
    local = run(definition, {})
    assert local.execution.output == ["slow", "fast"]
    # The fast branch finished first: its Pass exited before the slow branch's wait ended.
    exiting = ("PassStateExited", "WaitStateExited")
    exits = [details(e)["name"] for e in local.history if e.type in exiting]
    assert exits == ["Fast", "Slow", "SlowResult"]


def test_every_branch_gets_the_same_effective_input() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(("A", {"Type": "Pass"})),
                branch(("B", {"Type": "Pass", "InputPath": "$.id"})),
                InputPath="$.order",
                Parameters={"id.$": "$.id", "tag": "fixed"},
                End=True,
            )
        }
    )
    local = run(definition, {"order": {"id": 5}})
    assert local.execution.output == [{"id": 5, "tag": "fixed"}, 5]


def test_result_selector_and_result_path_shape_the_list() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(("A", {"Type": "Pass", "Result": {"n": 1}})),
                branch(("B", {"Type": "Pass", "Result": {"n": 2}})),
                ResultSelector={"first.$": "$[0].n", "all.$": "$[*].n"},
                ResultPath="$.results",
                End=True,
            )
        }
    )
    local = run(definition, {"keep": True})
    assert local.execution.output == {"keep": True, "results": {"first": 1, "all": [1, 2]}}


def test_history_shows_the_parallel_around_its_branches() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(("A", {"Type": "Pass"})), branch(("B", {"Type": "Pass"})), End=True
            )
        }
    )
    kinds = types(run(definition).history)
    assert kinds[:3] == ["ExecutionStarted", "ParallelStateEntered", "ParallelStateStarted"]
    assert kinds[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]
    assert kinds.count("PassStateEntered") == 2


def test_a_failing_branch_fails_the_parallel_with_its_error() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(("Fine", {"Type": "Pass"})),
                branch(("Broken", {"Type": "Fail", "Error": "StockGone", "Cause": "sku A1"})),
                End=True,
            )
        }
    )
    local = run(definition)
    assert (local.execution.status, local.execution.error, local.execution.cause) == (
        "FAILED",
        "StockGone",
        "sku A1",
    )
    [failed] = of_type(local.history, "ParallelStateFailed")
    assert failed.details.error == "StockGone"  # type: ignore[union-attr]
    assert "ParallelStateSucceeded" not in types(local.history)


def slow_sibling_machine(**fields: Any) -> dict[str, Any]:
    """Branch 0 waits on a callback; branch 1 fails five seconds in."""
    return machine(
        {
            "Both": parallel(
                branch(("Ask", callback_task())),
                branch(
                    ("Pause", {"Type": "Wait", "Seconds": 5}),
                    ("Broken", {"Type": "Fail", "Error": "Broken"}),
                ),
                **fields,
            ),
            **({"Handled": {"Type": "Pass", "End": True}} if "Catch" in fields else {}),
        }
    )


def test_the_siblings_later_answer_changes_nothing() -> None:
    inbox = Inbox()
    local = runner(slow_sibling_machine(End=True), {"publish": inbox})
    local.run({})
    assert local.execution.error == "Broken"
    [token] = inbox.tokens
    length = len(local.history)
    with pytest.raises(TaskNotPending):
        local.send_task_success(token, "too late")
    # Even a stray answer delivered straight to the execution is ignored.
    [scheduled] = of_type(local.history, "TaskScheduled")
    local.send(TaskResult(str(scheduled.id), "too late"))
    assert len(local.history) == length
    assert local.execution.error == "Broken"


def test_a_failing_branch_stops_its_siblings_pending_work() -> None:
    inbox = Inbox()
    catch = [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]
    local = runner(slow_sibling_machine(Catch=catch, End=True), {"publish": inbox})
    local.run({})
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.pending_tasks() == []
    assert local.execution.output == {"Error": "Broken", "Cause": ""}


def test_catch_on_a_parallel() -> None:
    definition = machine(
        {
            "Both": parallel(
                branch(("Broken", {"Type": "Fail", "Error": "Broken", "Cause": "why"})),
                Catch=[{"ErrorEquals": ["Broken"], "Next": "Compensate", "ResultPath": "$.error"}],
                End=True,
            ),
            "Compensate": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {"order": 1})
    assert entered(local.history)[-1] == "Compensate"
    assert local.execution.output == {"order": 1, "error": {"Error": "Broken", "Cause": "why"}}


def test_retry_on_a_parallel_runs_every_branch_again() -> None:
    calls: Counter[str] = Counter()

    def steady(event: Any, context: Any) -> str:
        calls["steady"] += 1
        return "steady"

    def flaky(event: Any, context: Any) -> str:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise Broken("first time")
        return "flaky"

    definition = machine(
        {
            "Both": parallel(
                branch(("Steady", lambda_task("steady"))),
                branch(("Flaky", lambda_task("flaky"))),
                Retry=[{"ErrorEquals": ["Broken"], "IntervalSeconds": 2}],
                End=True,
            )
        }
    )
    local = run(definition, {}, {"steady": steady, "flaky": flaky})
    assert local.execution.output == ["steady", "flaky"]
    assert calls == {"steady": 2, "flaky": 2}
    [failed] = of_type(local.history, "ParallelStateFailed")
    assert failed.details.retryDelaySeconds == 2  # type: ignore[union-attr]
    assert types(local.history).count("ParallelStateStarted") == 2
    assert entered(local.history).count("Both") == 1


def test_parallels_nest() -> None:
    inner = parallel(
        branch(("X", {"Type": "Pass", "Result": "x"})),
        branch(("Y", {"Type": "Pass", "Result": "y"})),
    )
    definition = machine(
        {
            "Outer": parallel(
                branch(("Inner", inner)), branch(("Z", {"Type": "Pass", "Result": "z"})), End=True
            )
        }
    )
    assert run(definition).execution.output == [["x", "y"], "z"]


def test_branches_may_use_succeed_and_wait_and_tasks() -> None:
    definition = machine(
        {
            "All": parallel(
                branch(("Stop early", {"Type": "Succeed"})),
                branch(("Nap", {"Type": "Wait", "Seconds": 60}), ("Call", lambda_task("double"))),
                ResultPath="$.out",
                Next="Done",
            ),
            "Done": {"Type": "Succeed"},
        }
    )
    local = run(definition, {"n": 4}, {"double": lambda event, context: event["n"] * 2})
    assert local.execution.output == {"n": 4, "out": [{"n": 4}, 8]}
    assert (local.history[-1].timestamp - local.history[0].timestamp).total_seconds() == 60
