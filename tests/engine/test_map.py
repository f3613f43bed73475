"""Map (inline): the item processor runs once per item of an array; the result lists the
outputs in item order. From the Step Functions guide ("Map state"): ItemsPath picks the
array, ItemSelector (formerly Parameters, with Iterator for ItemProcessor) builds each
iteration's input with $$.Map.Item.Index and $$.Map.Item.Value, MaxConcurrency bounds the
iterations in flight (0: no bound), a failed iteration fails the Map unless
ToleratedFailureCount/Percentage allow it, and beyond them the Map fails with
States.ExceedToleratedFailureThreshold.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from tests.engine.support import (
    Inbox,
    callback_task,
    entered,
    lambda_task,
    machine,
    of_type,
    run,
    runner,
    types,
)


def processor(*states: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in states]
    body = {
        name: {**state, **({"Next": names[i + 1]} if i + 1 < len(names) else {"End": True})}
        for i, (name, state) in enumerate(states)
    }
    return {"StartAt": names[0], "States": body}


def map_state(proc: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"Type": "Map", "ItemProcessor": proc, **fields}


IDENTITY = processor(("Same", {"Type": "Pass"}))


class BadItem(Exception):
    pass


def check_item(event: Any, context: Any) -> Any:
    if event["bad"]:
        raise BadItem(f"item {event['id']} is bad")
    return event["id"]


def test_items_path_picks_the_array_and_outputs_keep_item_order() -> None:
    definition = machine(
        {
            "Each": map_state(
                processor(("Double", lambda_task("double"))), ItemsPath="$.numbers", End=True
            )
        }
    )
    local = run(definition, {"numbers": [3, 1, 2]}, {"double": lambda event, context: event * 2})
    assert local.execution.output == [6, 2, 4]


def test_without_items_path_the_input_itself_is_the_array() -> None:
    assert run(machine({"Each": map_state(IDENTITY, End=True)}), [1, 2]).execution.output == [1, 2]


def test_item_selector_builds_each_input_from_the_item_its_index_and_the_input() -> None:
    selector = {
        "index.$": "$$.Map.Item.Index",
        "value.$": "$$.Map.Item.Value",
        "customer.$": "$.customer",
    }
    definition = machine(
        {"Each": map_state(IDENTITY, ItemsPath="$.items", ItemSelector=selector, End=True)}
    )
    local = run(definition, {"customer": "c-1", "items": ["a", "b"]})
    assert local.execution.output == [
        {"index": 0, "value": "a", "customer": "c-1"},
        {"index": 1, "value": "b", "customer": "c-1"},
    ]


def test_the_older_iterator_and_parameters_still_work() -> None:
    definition = machine(
        {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "Parameters": {"n.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"},
                "Iterator": processor(("Same", {"Type": "Pass"})),
                "End": True,
            }
        }
    )
    assert run(definition, {"items": [5, 6]}).execution.output == [
        {"n": 5, "at": 0},
        {"n": 6, "at": 1},
    ]


def test_an_empty_array_gives_an_empty_list_at_once() -> None:
    local = run(
        machine({"Each": map_state(IDENTITY, ItemsPath="$.items", End=True)}), {"items": []}
    )
    assert local.execution.output == []
    assert types(local.history) == [
        "ExecutionStarted",
        "MapStateEntered",
        "MapStateStarted",
        "MapStateSucceeded",
        "MapStateExited",
        "ExecutionSucceeded",
    ]


def test_items_path_that_is_not_an_array_is_a_runtime_error() -> None:
    local = run(
        machine({"Each": map_state(IDENTITY, ItemsPath="$.items", End=True)}), {"items": {"a": 1}}
    )
    assert local.execution.error == "States.Runtime"


def test_history_shows_each_iteration() -> None:
    local = run(machine({"Each": map_state(IDENTITY, End=True)}), ["a", "b"])
    assert of_type(local.history, "MapStateStarted")[0].details.length == 2  # type: ignore[union-attr]
    started = [e.details.index for e in of_type(local.history, "MapIterationStarted")]  # type: ignore[union-attr]
    succeeded = [e.details.index for e in of_type(local.history, "MapIterationSucceeded")]  # type: ignore[union-attr]
    assert started == [0, 1]
    assert sorted(succeeded) == [0, 1]


def test_result_selector_and_result_path_shape_the_list() -> None:
    definition = machine(
        {
            "Each": map_state(
                IDENTITY,
                ItemsPath="$.items",
                ResultSelector={"count.$": "States.ArrayLength($)"},
                ResultPath="$.summary",
                End=True,
            )
        }
    )
    assert run(definition, {"items": [1, 2, 3]}).execution.output == {
        "items": [1, 2, 3],
        "summary": {"count": 3},
    }


# -- concurrency -----------------------------------------------------------------------


def concurrent_map(**fields: Any) -> dict[str, Any]:
    return machine(
        {
            "Each": map_state(
                processor(("Ask", callback_task())), ItemsPath="$.items", End=True, **fields
            )
        }
    )


def drive(local: LocalRunner, inbox: Inbox, answer_order: list[int]) -> list[int]:
    """Answer the callbacks item by item in `answer_order` as they appear; return the
    number of tasks in flight seen after every step."""
    in_flight = [len(local.execution.pending_tasks())]
    for item in answer_order:
        local.send_task_success(inbox.token_for(item), f"done {item}")
        local.run_until_idle()
        in_flight.append(len(local.execution.pending_tasks()))
    return in_flight


def test_max_concurrency_bounds_the_iterations_in_flight() -> None:
    inbox = Inbox()
    local = runner(concurrent_map(MaxConcurrency=2), {"publish": inbox})
    local.run({"items": [0, 1, 2, 3, 4]})
    assert [m["input"] for m in inbox.received] == [0, 1]
    in_flight = drive(local, inbox, [1, 0, 2, 4, 3])
    assert in_flight == [2, 2, 2, 2, 1, 0]
    assert [m["input"] for m in inbox.received] == [0, 1, 2, 3, 4]
    assert local.execution.output == [f"done {i}" for i in range(5)]


def test_a_freed_slot_is_taken_by_the_next_item() -> None:
    inbox = Inbox()
    local = runner(concurrent_map(MaxConcurrency=2), {"publish": inbox})
    local.run({"items": [0, 1, 2]})
    local.send_task_success(inbox.token_for(1), "one")
    local.run_until_idle()
    assert sorted(m["input"] for m in inbox.received) == [0, 1, 2]
    assert {t.frame_id for t in local.execution.pending_tasks()} == {"/0", "/2"}


def test_max_concurrency_path_reads_the_bound_from_the_input() -> None:
    inbox = Inbox()
    local = runner(concurrent_map(MaxConcurrencyPath="$.limit"), {"publish": inbox})
    local.run({"items": [0, 1, 2, 3], "limit": 3})
    assert drive(local, inbox, [0, 1, 2, 3]) == [3, 3, 2, 1, 0]


def test_max_concurrency_zero_runs_every_item_at_once() -> None:
    inbox = Inbox()
    local = runner(concurrent_map(MaxConcurrency=0), {"publish": inbox})
    local.run({"items": list(range(6))})
    assert len(local.execution.pending_tasks()) == 6


def test_max_concurrency_one_runs_items_one_after_another() -> None:
    inbox = Inbox()
    local = runner(concurrent_map(MaxConcurrency=1), {"publish": inbox})
    local.run({"items": [0, 1, 2]})
    assert drive(local, inbox, [0, 1, 2]) == [1, 1, 1, 0]


# -- failures --------------------------------------------------------------------------


def items(*bad: int, total: int = 5) -> dict[str, Any]:
    return {"items": [{"id": i, "bad": i in bad} for i in range(total)]}


def checking_map(**fields: Any) -> dict[str, Any]:
    return machine(
        {
            "Each": map_state(
                processor(("Check", lambda_task("check"))), ItemsPath="$.items", End=True, **fields
            )
        }
    )


def run_checks(definition: dict[str, Any], execution_input: dict[str, Any]) -> LocalRunner:
    return run(definition, execution_input, {"check": check_item})


def test_a_failed_iteration_fails_the_map_with_its_error() -> None:
    local = run_checks(checking_map(), items(2))
    assert local.execution.error == "BadItem"
    assert [e.details.index for e in of_type(local.history, "MapIterationFailed")] == [2]  # type: ignore[union-attr]
    [failed] = of_type(local.history, "MapStateFailed")
    assert failed.details.error == "BadItem"  # type: ignore[union-attr]


def test_iterations_in_flight_are_aborted_when_the_map_fails() -> None:
    inbox = Inbox()
    proc = {
        "StartAt": "Which",
        "States": {
            "Which": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 0, "Next": "Broken"}],
                "Default": "Ask",
            },
            "Broken": {"Type": "Fail", "Error": "Broken"},
            "Ask": {**callback_task(), "End": True},
        },
    }
    local = runner(machine({"Each": map_state(proc, End=True)}), {"publish": inbox})
    local.run([1, 0, 2])
    assert local.execution.error == "Broken"
    aborted = sorted(e.details.index for e in of_type(local.history, "MapIterationAborted"))  # type: ignore[union-attr]
    assert aborted == [0, 2]
    assert local.execution.pending_tasks() == []


@pytest.mark.parametrize(
    ("count", "bad", "fails"),
    [(2, (1, 3), False), (1, (1, 3), True), (0, (4,), True), (0, (), False)],
)
def test_tolerated_failure_count(count: int, bad: tuple[int, ...], fails: bool) -> None:
    local = run_checks(checking_map(ToleratedFailureCount=count), items(*bad))
    if fails:
        assert local.execution.error == "States.ExceedToleratedFailureThreshold"
    else:
        output = local.execution.output
        assert local.execution.status == "SUCCEEDED"
        assert [output[i] for i in range(5) if i not in bad] == [
            i for i in range(5) if i not in bad
        ]


@pytest.mark.parametrize(
    ("percentage", "fails"), [(40, False), (39, True), (100, False), (0, True)]
)
def test_tolerated_failure_percentage(percentage: float, fails: bool) -> None:
    # Two of five items fail: 40 %.
    local = run_checks(checking_map(ToleratedFailurePercentage=percentage), items(1, 3))
    assert local.execution.status == ("FAILED" if fails else "SUCCEEDED")
    if fails:
        assert local.execution.error == "States.ExceedToleratedFailureThreshold"


def test_tolerated_failures_from_paths() -> None:
    definition = checking_map(
        ToleratedFailureCountPath="$.count", ToleratedFailurePercentagePath="$.pct"
    )
    assert (
        run_checks(definition, {**items(1), "count": 1, "pct": 50}).execution.status == "SUCCEEDED"
    )
    failed = run_checks(definition, {**items(1, 2), "count": 1, "pct": 50})
    assert failed.execution.error == "States.ExceedToleratedFailureThreshold"
    # Either bound being exceeded is enough.
    failed = run_checks(definition, {**items(1, 2), "count": 5, "pct": 20})
    assert failed.execution.error == "States.ExceedToleratedFailureThreshold"


def test_catch_on_a_map() -> None:
    definition = machine(
        {
            "Each": map_state(
                processor(("Check", lambda_task("check"))),
                ItemsPath="$.items",
                Catch=[{"ErrorEquals": ["BadItem"], "Next": "Report", "ResultPath": "$.error"}],
                End=True,
            ),
            "Report": {"Type": "Pass", "OutputPath": "$.error.Error", "End": True},
        }
    )
    local = run_checks(definition, items(0))
    assert entered(local.history)[-1] == "Report"
    assert local.execution.output == "BadItem"


def test_retry_on_a_map_runs_every_item_again() -> None:
    seen: list[int] = []

    def once_bad(event: Any, context: Any) -> Any:
        seen.append(event)
        if event == 1 and seen.count(1) == 1:
            raise BadItem("first time")
        return event

    definition = machine(
        {
            "Each": map_state(
                processor(("Check", lambda_task("check"))),
                Retry=[{"ErrorEquals": ["BadItem"], "IntervalSeconds": 1}],
                End=True,
            )
        }
    )
    local = run(definition, [0, 1, 2], {"check": once_bad})
    assert local.execution.output == [0, 1, 2]
    assert sorted(seen) == [0, 0, 1, 1, 2, 2]
    assert types(local.history).count("MapStateStarted") == 2


def test_a_map_inside_a_parallel() -> None:
    definition = machine(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    processor(
                        (
                            "Each",
                            map_state(
                                processor(("Square", lambda_task("square"))), ItemsPath="$.n"
                            ),
                        )
                    ),
                    processor(
                        (
                            "Count",
                            {"Type": "Pass", "Parameters": {"count.$": "States.ArrayLength($.n)"}},
                        )
                    ),
                ],
                "End": True,
            }
        }
    )
    local = run(definition, {"n": [1, 2, 3]}, {"square": lambda event, context: event * event})
    assert local.execution.output == [[1, 4, 9], {"count": 3}]
    scopes = {e.scope for e in of_type(local.history, "LambdaFunctionScheduled")}
    assert scopes == {"/0/0", "/0/1", "/0/2"}


def test_a_map_inside_a_map_sees_its_own_item() -> None:
    inner = map_state(
        processor(("Cell", {"Type": "Pass"})),
        ItemSelector={"row.$": "$.row", "col.$": "$$.Map.Item.Index"},
        ItemsPath="$.cells",
    )
    outer = map_state(
        processor(("Row", inner)),
        ItemSelector={"row.$": "$$.Map.Item.Index", "cells.$": "$$.Map.Item.Value"},
        End=True,
    )
    local = run(machine({"Grid": outer}), [["a", "b"], ["c"]])
    assert local.execution.output == [
        [{"row": 0, "col": 0}, {"row": 0, "col": 1}],
        [{"row": 1, "col": 0}],
    ]


def test_a_large_map_runs_quickly_on_the_virtual_clock() -> None:
    proc = processor(("Nap", {"Type": "Wait", "Seconds": 60}), ("Same", {"Type": "Pass"}))
    local = run(machine({"Each": map_state(proc, MaxConcurrency=10, End=True)}), list(range(200)))
    assert local.execution.output == list(range(200))
    # Twenty rounds of ten one-minute naps.
    assert (local.history[-1].timestamp - local.history[0].timestamp).total_seconds() == 20 * 60


def test_after_a_tolerated_failure_the_remaining_items_still_run() -> None:
    definition = checking_map(MaxConcurrency=1, ToleratedFailureCount=1)
    local = run_checks(definition, items(0, total=4))
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output[1:] == [1, 2, 3]
    started = [e.details.index for e in of_type(local.history, "MapIterationStarted")]  # type: ignore[union-attr]
    assert started == [0, 1, 2, 3]


def test_an_item_selector_that_fails_fails_the_map_before_any_iteration() -> None:
    definition = machine(
        {
            "Each": map_state(
                IDENTITY,
                ItemSelector={"x.$": "$.missing"},
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handled"}],
                End=True,
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, [1, 2])
    # A path selecting nothing is States.Runtime, which no Catch handles.
    assert entered(local.history) == ["Each"]
    assert local.execution.error == "States.Runtime"
    assert "MapIterationStarted" not in types(local.history)
