"""Parallel and Map states one after another, and what a fault of the engine itself does.

A Parallel or a Map hears of its last branch or iteration through work queued for later;
by the time that work runs, the state may already have ended and its frame moved on to
the next Parallel or Map. Chains of them in any order must give every state its own
results. And should the engine still go wrong on one execution, that execution fails
with States.Runtime naming the fault; its caller goes on.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepstream.asl.definition import parse_definition
from tests.engine.support import ReplayingRunner, machine, of_type, replaying

ITEMS = [1, 2, 3]


def _pass_scope(name: str) -> dict[str, Any]:
    return {"StartAt": name, "States": {name: {"Type": "Pass", "End": True}}}


def _state(kind: str, index: int) -> dict[str, Any]:
    """A state that records what it saw at `$.r<index>`, leaving the input as it was."""
    if kind == "Map":
        return {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": _pass_scope(f"Item{index}"),
            "ResultPath": f"$.r{index}",
        }
    if kind == "Parallel":
        return {
            "Type": "Parallel",
            "Branches": [_pass_scope(f"Left{index}"), _pass_scope(f"Right{index}")],
            "ResultSelector": {"branches.$": "States.ArrayLength($)"},
            "ResultPath": f"$.r{index}",
        }
    return {"Type": "Pass", "Result": kind, "ResultPath": f"$.r{index}"}


def chain(kinds: list[str]) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for index, kind in enumerate(kinds):
        state = _state(kind, index)
        if index + 1 < len(kinds):
            state["Next"] = f"S{index + 1}"
        else:
            state["End"] = True
        states[f"S{index}"] = state
    return machine(states)


def expected(kinds: list[str]) -> dict[str, Any]:
    """What each state leaves at its ResultPath, worked out without the engine."""
    output: dict[str, Any] = {"items": ITEMS}
    for index, kind in enumerate(kinds):
        if kind == "Map":
            output[f"r{index}"] = ITEMS
        elif kind == "Parallel":
            output[f"r{index}"] = {"branches": 2}
        else:
            output[f"r{index}"] = kind
    return output


def test_a_map_then_a_parallel_each_get_their_own_results() -> None:
    local = replaying(chain(["Map", "Parallel"]))
    local.run({"items": ITEMS})
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == expected(["Map", "Parallel"])


def test_a_map_then_a_pass_then_a_parallel() -> None:
    local = replaying(chain(["Map", "Pass", "Parallel"]))
    local.run({"items": ITEMS})
    assert local.execution.output == expected(["Map", "Pass", "Parallel"])


def test_a_parallel_then_a_map_runs_every_item() -> None:
    local = replaying(chain(["Parallel", "Map"]))
    local.run({"items": ITEMS})
    assert local.execution.output == expected(["Parallel", "Map"])
    assert len(of_type(local.history, "MapIterationSucceeded")) == len(ITEMS)
    assert len(of_type(local.history, "ParallelStateSucceeded")) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["Map", "Parallel", "Pass"]), min_size=1, max_size=6))
def test_any_chain_of_maps_parallels_and_passes_gives_each_its_own_result(
    kinds: list[str],
) -> None:
    local = replaying(chain(kinds))
    local.run({"items": ITEMS})
    assert local.execution.status == "SUCCEEDED", local.execution.cause
    assert local.execution.output == expected(kinds)


# -- faults of the engine -----------------------------------------------------------------


def test_a_fault_of_the_engine_fails_the_execution_with_states_runtime() -> None:
    # Parsed without validation, a Next naming no state reaches the interpreter: the
    # engine trips over it as it would over a fault of its own.
    broken = parse_definition(machine({"First": {"Type": "Pass", "Next": "Nowhere"}}))
    # The replaying runner checks after every decision that the history rebuilds it.
    local = ReplayingRunner(broken, seed=1)
    local.run({})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "States.Runtime"
    assert local.execution.cause is not None
    assert "internal error" in local.execution.cause
    assert "KeyError" in local.execution.cause
    assert [event.type for event in local.history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionFailed",
    ]
    # The recorded history is still the execution: event ids run on without a gap.
    assert [event.id for event in local.history] == [1, 2, 3, 4]
