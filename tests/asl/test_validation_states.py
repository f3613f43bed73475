"""Each state: its Type, its transitions, and exactly the fields AWS allows for it."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import PASS_END, TASK, machine, one_state, only_problem, problems


def test_type_is_required() -> None:
    location, message = only_problem(one_state({"End": True}))
    assert location == "$.States.A"
    assert message.startswith("required field 'Type' is missing")


@pytest.mark.parametrize("state_type", ["Lambda", "pass", ["Pass"], None])
def test_type_must_be_a_known_state_type(state_type: Any) -> None:
    location, message = only_problem(one_state({"Type": state_type, "End": True}))
    assert location == "$.States.A.Type"
    assert "unknown state type" in message
    assert "Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map" in message


@pytest.mark.parametrize("state_type", ["Pass", "Wait", "Parallel", "Map", "Task"])
def test_a_state_that_moves_on_needs_next_or_end(state_type: str) -> None:
    state = _complete(state_type)
    del state["End"]
    assert only_problem(one_state(state)) == (
        "$.States.A",
        f"a {state_type} state needs Next (the state to go to) or End: true",
    )


def test_end_false_counts_as_no_end() -> None:
    location, message = only_problem(one_state({"Type": "Pass", "End": False}))
    assert location == "$.States.A"
    assert "needs Next" in message


def test_next_and_end_together_are_an_error() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B", "End": True}, "B": PASS_END})
    assert only_problem(definition) == (
        "$.States.A",
        "the state has both Next and End: true; it must either move on or end",
    )


def test_end_must_be_a_boolean() -> None:
    found = problems(one_state({"Type": "Pass", "End": "true"}))
    assert ("$.States.A.End", 'must be true or false, got string "true"') in found


@pytest.mark.parametrize(("state_type", "field"), [("Succeed", "Next"), ("Fail", "End")])
def test_terminal_states_take_neither_next_nor_end(state_type: str, field: str) -> None:
    value: Any = "A" if field == "Next" else True
    location, message = only_problem(one_state({"Type": state_type, field: value}))
    assert location == f"$.States.A.{field}"
    assert f"cannot have {field}" in message


def test_a_choice_state_takes_no_next() -> None:
    choice = _complete("Choice")
    choice["Next"] = "B"
    definition = machine({"A": choice, "B": PASS_END})
    location, message = only_problem(definition)
    assert location == "$.States.A.Next"
    assert "moves on through Choices and Default" in message


def test_unknown_fields_are_errors() -> None:
    assert only_problem(one_state({"Type": "Pass", "End": True, "Color": "red"})) == (
        "$.States.A.Color",
        "unknown field 'Color' in a Pass state",
    )


def test_fields_of_other_state_types_are_misplaced() -> None:
    assert only_problem(one_state({**TASK, "Seconds": 5})) == (
        "$.States.A.Seconds",
        "field 'Seconds' is not allowed in a Task state",
    )


@pytest.mark.parametrize("state_type", ["Pass", "Wait", "Choice", "Succeed", "Fail"])
@pytest.mark.parametrize("field", ["Retry", "Catch"])
def test_retry_and_catch_only_on_task_parallel_and_map(state_type: str, field: str) -> None:
    state = {**_complete(state_type), field: []}
    states = {"A": state, "B": PASS_END} if state_type == "Choice" else {"A": state}
    location, message = only_problem(machine(states))
    assert location == f"$.States.A.{field}"
    assert "allowed only on Task, Parallel and Map states" in message


JSONPATH_ONLY = [
    ("InputPath", "$"),
    ("Parameters", {}),
    ("ResultSelector", {}),
    ("ResultPath", "$.r"),
    ("OutputPath", "$"),
]


@pytest.mark.parametrize(("field", "value"), JSONPATH_ONLY)
def test_jsonpath_fields_are_refused_in_a_jsonata_state(field: str, value: Any) -> None:
    state = {**TASK, "QueryLanguage": "JSONata", field: value}
    assert only_problem(one_state(state)) == (
        f"$.States.A.{field}",
        f"field '{field}' is JSONPath-only and not allowed in a JSONata state"
        " (this state's query language is JSONata)",
    )


@pytest.mark.parametrize("field", ["Arguments", "Output"])
def test_jsonata_fields_are_refused_in_a_jsonpath_state(field: str) -> None:
    location, message = only_problem(one_state({**TASK, field: {}}))
    assert location == f"$.States.A.{field}"
    assert f"field '{field}' is JSONata-only" in message


@pytest.mark.parametrize("language", ["JSONPath", "JSONata"])
def test_assign_is_allowed_in_both_languages(language: str) -> None:
    state = {**TASK, "QueryLanguage": language, "Assign": {"orderId": 7}}
    assert problems(one_state(state)) == []


def test_a_jsonata_state_may_sit_in_a_jsonpath_machine() -> None:
    state = {**TASK, "QueryLanguage": "JSONata", "Arguments": {"x": "{% 1 + 1 %}"}}
    assert problems(one_state(state, QueryLanguage="JSONPath")) == []


def test_a_jsonpath_state_may_not_sit_in_a_jsonata_machine() -> None:
    state = {**TASK, "QueryLanguage": "JSONPath"}
    location, message = only_problem(one_state(state, QueryLanguage="JSONata"))
    assert location == "$.States.A.QueryLanguage"
    assert "a JSONPath state cannot sit in a JSONata scope" in message


def test_states_inherit_the_machine_query_language() -> None:
    location, message = only_problem(one_state({**TASK, "Parameters": {}}, QueryLanguage="JSONata"))
    assert location == "$.States.A.Parameters"
    assert "JSONPath-only" in message


def test_a_state_query_language_must_be_known() -> None:
    location, _ = only_problem(one_state({**PASS_END, "QueryLanguage": "XPath"}))
    assert location == "$.States.A.QueryLanguage"


def test_pass_may_hold_both_result_and_parameters() -> None:
    state = {**PASS_END, "Result": {"x": 1}, "Parameters": {"y": 2}}
    assert problems(one_state(state)) == []


def test_comment_on_a_state_must_be_a_string() -> None:
    location, _ = only_problem(one_state({**PASS_END, "Comment": 5}))
    assert location == "$.States.A.Comment"


def _complete(state_type: str) -> dict[str, Any]:
    """A valid state of ``state_type`` that ends (or, for Choice, goes to B)."""
    bodies: dict[str, dict[str, Any]] = {
        "Pass": {"Type": "Pass", "End": True},
        "Task": dict(TASK),
        "Wait": {"Type": "Wait", "Seconds": 1, "End": True},
        "Succeed": {"Type": "Succeed"},
        "Fail": {"Type": "Fail"},
        "Choice": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "B"}],
        },
        "Parallel": {
            "Type": "Parallel",
            "End": True,
            "Branches": [{"StartAt": "P", "States": {"P": PASS_END}}],
        },
        "Map": {
            "Type": "Map",
            "End": True,
            "ItemProcessor": {"StartAt": "M", "States": {"M": PASS_END}},
        },
    }
    return dict(bodies[state_type])
