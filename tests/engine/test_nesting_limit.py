"""How deep a value from outside may nest, and how deep one is measured.

Values arrive as JSON in messages, and go on in others (history events, commands) a few
levels further down. So what comes in is held to ``MAX_NESTING`` levels, below what
messages may hold (stepstream.messaging.envelope.MAX_NESTING), and a deeper execution
input is refused with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stepstream.asl.json_values import nesting_depth
from stepstream.asl.limits import MAX_NESTING, execution_input_problem, nesting_problem
from stepstream.messaging import envelope


def nested(levels: int) -> Any:
    value: Any = 1
    for level in range(levels):
        value = [value] if level % 2 else {"v": value}
    return value


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("text", 0), ([], 1), ({}, 1), ({"a": [1, {"b": []}]}, 4), ([[], [[[]]], []], 4)],
)
def test_depth_counts_arrays_and_objects(value: Any, depth: int) -> None:
    assert nesting_depth(value) == depth


def test_depth_is_measured_past_python_s_recursion_limit() -> None:
    assert nesting_depth(nested(20_000)) == 20_000


def test_a_bounded_walk_stops_at_the_first_level_past_the_bound() -> None:
    assert nesting_depth(nested(20_000), beyond=10) == 11
    assert nesting_depth(nested(5), beyond=10) == 5


def test_values_keep_room_below_what_a_message_may_hold() -> None:
    assert MAX_NESTING + 10 <= envelope.MAX_NESTING


def test_an_execution_input_at_the_limit_is_taken() -> None:
    assert execution_input_problem(nested(MAX_NESTING)) is None


@pytest.mark.parametrize("levels", [MAX_NESTING + 1, 300, 5_000])
def test_a_deeper_execution_input_is_refused_with_the_reason(levels: int) -> None:
    assert execution_input_problem(nested(levels)) == (
        f"the execution input nests more than {MAX_NESTING} levels deep (arrays and objects)"
    )


def test_the_problem_names_what_was_too_deep() -> None:
    assert nesting_problem("the task's output", nested(MAX_NESTING + 1)) == (
        f"the task's output nests more than {MAX_NESTING} levels deep (arrays and objects)"
    )
    assert nesting_problem("the task's output", json.loads("[" * 3 + "]" * 3)) is None
