"""The validation API: errors as data, all of them at once, and JSON text loading."""

from __future__ import annotations

from typing import Any

import pytest

from stepstream.asl.validation import (
    DefinitionError,
    InvalidDefinition,
    check,
    load_definition,
    validate,
)

from .definitions import PASS_END, machine, one_state, only_problem, problems


def test_an_error_reads_as_location_message_and_state() -> None:
    error = DefinitionError("$.States['Call API'].Next", "Call API", "state 'Nope' does not exist")
    assert str(error) == (
        "$.States['Call API'].Next: state 'Nope' does not exist (state 'Call API')"
    )


def test_an_error_outside_any_state_names_no_state() -> None:
    assert str(DefinitionError("$.StartAt", None, "must be a string")) == (
        "$.StartAt: must be a string"
    )


def test_a_valid_definition_has_no_errors_and_passes_check() -> None:
    definition = one_state(PASS_END)
    assert validate(definition) == []
    check(definition)


def test_check_raises_every_error_together() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "Nope"}, "B": {"Type": "Wait"}})
    with pytest.raises(InvalidDefinition) as raised:
        check(definition)
    assert raised.value.errors == tuple(validate(definition))
    assert len(raised.value.errors) >= 3
    text = str(raised.value)
    assert all(str(error) in text for error in raised.value.errors)
    assert isinstance(raised.value, ValueError)


def test_the_state_of_an_error_is_the_innermost_state() -> None:
    definition = one_state(
        {
            "Type": "Parallel",
            "End": True,
            "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "Z"}}}],
        }
    )
    [error] = validate(definition)
    assert error.state == "B"
    assert error.location == "$.States.A.Branches[0].States.B.Next"


def test_errors_are_sorted_by_location_with_indexes_in_numeric_order() -> None:
    retriers: list[dict[str, Any]] = [{"ErrorEquals": ["E"]} for _ in range(11)]
    retriers[10]["MaxAttempts"] = -1
    retriers[2]["MaxAttempts"] = -1
    definition = one_state({"Type": "Task", "Resource": "x", "Retry": retriers, "End": True})
    locations = [location for location, _ in problems(definition)]
    assert locations == [
        "$.States.A.Resource",
        "$.States.A.Retry[2].MaxAttempts",
        "$.States.A.Retry[10].MaxAttempts",
    ]


@pytest.mark.parametrize("definition", [None, [], "text", 3, 2.5, True])
def test_a_definition_that_is_not_an_object_is_reported_not_raised(definition: object) -> None:
    location, message = only_problem(definition)
    assert location == "$"
    assert "must be a JSON object" in message


def test_names_that_are_not_identifiers_are_quoted_in_locations() -> None:
    location, _ = only_problem(machine({"it's here": {"Type": "Pass"}}, start="it's here"))
    assert location == "$.States['it\\'s here']"


def test_load_definition_returns_the_parsed_definition() -> None:
    definition = load_definition('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
    assert definition == {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}
    assert type(definition) is dict
    assert type(definition["States"]) is dict


def test_load_definition_names_line_and_column_of_a_json_syntax_error() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        load_definition('{\n  "StartAt": "A",\n  "States": {,}\n}')
    [error] = raised.value.errors
    assert error.location == "$"
    assert "line 3, column 14" in error.message


def test_load_definition_refuses_constants_that_are_not_json() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        load_definition('{"StartAt": "A", "TimeoutSeconds": NaN, "States": {}}')
    assert "NaN is not a JSON value" in raised.value.errors[0].message


def test_load_definition_reports_a_state_defined_twice() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Succeed"}}}'
    with pytest.raises(InvalidDefinition) as raised:
        load_definition(text)
    [error] = raised.value.errors
    assert (error.location, error.state) == ("$.States.A", "A")
    assert "defined more than once" in error.message


def test_load_definition_reports_a_field_given_twice() -> None:
    text = '{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "End": true}}}'
    with pytest.raises(InvalidDefinition) as raised:
        load_definition(text)
    [error] = raised.value.errors
    assert error.location == "$.States.A.End"
    assert "given more than once" in error.message


def test_load_definition_raises_every_validation_error() -> None:
    with pytest.raises(InvalidDefinition) as raised:
        load_definition('{"States": {"A": {"Type": "Pass"}}, "Extra": 1}')
    assert [error.location for error in raised.value.errors] == ["$", "$.Extra", "$.States.A"]


def test_python_values_that_json_cannot_hold_are_reported() -> None:
    state: dict[Any, Any] = {**PASS_END, "Result": {1, 2}, 7: "seven"}
    assert problems(one_state(state)) == [
        ("$.States.A", "object keys must be strings, got integer 7"),
        ("$.States.A.Result", "not a JSON value: set {1, 2}"),
    ]


def test_a_definition_that_contains_itself_is_reported_not_followed() -> None:
    definition = one_state(dict(PASS_END))
    definition["States"]["A"]["Result"] = definition
    location, message = only_problem(definition)
    assert location == "$.States.A.Result"
    assert "contains itself" in message
