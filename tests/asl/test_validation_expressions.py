"""Embedded expressions: paths, Choice rules, JSONata strings and variable names."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import PASS_END, TASK, machine, one_state, only_problem, problems


def _jsonata(state: dict[str, Any]) -> dict[str, Any]:
    return one_state({**state, "QueryLanguage": "JSONata"})


@pytest.mark.parametrize("field", ["InputPath", "OutputPath"])
def test_input_and_output_paths_may_select_many_nodes_or_be_null(field: str) -> None:
    for value in ["$", "$.items[*].id", "$$.Execution.Input", None]:
        assert problems(one_state({**PASS_END, field: value})) == []


@pytest.mark.parametrize("field", ["InputPath", "OutputPath", "ResultPath"])
def test_paths_must_parse(field: str) -> None:
    location, message = only_problem(one_state({**PASS_END, field: "$.items["}))
    assert location == f"$.States.A.{field}"
    assert message.startswith('"$.items[" is not a valid path:')


def test_a_path_must_start_with_a_dollar() -> None:
    location, message = only_problem(one_state({**PASS_END, "InputPath": "items"}))
    assert location == "$.States.A.InputPath"
    assert "not a valid path" in message


@pytest.mark.parametrize("value", ["$", "$.result", "$.a['b c'][0]", None])
def test_result_path_is_a_reference_path_or_null(value: Any) -> None:
    assert problems(one_state({**TASK, "ResultPath": value})) == []


@pytest.mark.parametrize("value", ["$.results[*]", "$..result", "$$.Task.Token", "$myVariable"])
def test_result_path_cannot_select_many_nodes_or_leave_the_state_data(value: str) -> None:
    location, _ = only_problem(one_state({**TASK, "ResultPath": value}))
    assert location == "$.States.A.ResultPath"


def test_reference_paths_may_read_the_context_object_and_variables() -> None:
    state = {"Type": "Wait", "SecondsPath": "$delay", "End": True}
    assert problems(one_state(state)) == []
    assert problems(one_state({**state, "SecondsPath": "$$.Execution.Input.delay"})) == []


def test_jsonpath_choice_rules_are_checked_where_they_are_written() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [
            {"Variable": "$.ok", "BooleanEquals": True, "Next": "B"},
            {"And": [{"Variable": "$.n", "NumericEquals": "one"}], "Next": "B"},
        ],
    }
    location, message = only_problem(machine({"A": choice, "B": PASS_END}))
    assert location == "$.States.A.Choices[1].And[0]"
    assert "NumericEquals must be a number" in message


def test_next_belongs_on_top_level_choice_rules_only() -> None:
    rule = {"Not": {"Variable": "$.x", "IsNull": True, "Next": "B"}, "Next": "B"}
    choice = {"Type": "Choice", "Choices": [rule]}
    location, message = only_problem(machine({"A": choice, "B": PASS_END}))
    assert location == "$.States.A.Choices[0].Not"
    assert "top-level" in message


def test_choices_must_be_a_non_empty_array() -> None:
    found = problems(one_state({"Type": "Choice", "Choices": [], "Default": "A"}))
    assert ("$.States.A.Choices", "must be a non-empty array") in found


def test_a_choice_state_needs_choices() -> None:
    definition = machine({"A": {"Type": "Choice", "Default": "B"}, "B": PASS_END})
    assert only_problem(definition) == (
        "$.States.A",
        "required field 'Choices' is missing in a Choice state",
    )


def test_jsonata_choice_rules_test_a_condition() -> None:
    rule = {"Condition": "{% $states.input.total > 100 %}", "Next": "B", "Output": {"big": True}}
    definition = machine(
        {"A": {"Type": "Choice", "Choices": [rule], "Default": "B"}, "B": PASS_END}
    )
    definition["QueryLanguage"] = "JSONata"
    assert problems(definition) == []


def test_a_jsonata_choice_rule_has_no_variable() -> None:
    rule = {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "B"}
    choice = {"Type": "Choice", "QueryLanguage": "JSONata", "Choices": [rule]}
    found = problems(machine({"A": choice, "B": PASS_END}))
    assert found[0] == (
        "$.States.A.Choices[0]",
        "required field 'Condition' is missing: a JSONata Choice rule tests one",
    )
    assert found[1][0] == "$.States.A.Choices[0].NumericGreaterThan"
    assert found[2] == (
        "$.States.A.Choices[0].Variable",
        "field 'Variable' is JSONPath-only; a JSONata Choice rule tests a Condition",
    )


@pytest.mark.parametrize("condition", ["true", 1, None, "$.ok"])
def test_a_condition_is_a_boolean_or_an_expression(condition: Any) -> None:
    choice: dict[str, Any] = {"Type": "Choice", "QueryLanguage": "JSONata"}
    choice["Choices"] = [{"Condition": condition, "Next": "B"}]
    location, _ = only_problem(machine({"A": choice, "B": PASS_END}))
    assert location == "$.States.A.Choices[0].Condition"


def test_a_condition_is_refused_in_a_jsonpath_rule() -> None:
    choice = {"Type": "Choice", "Choices": [{"Condition": "{% true %}", "Next": "B"}]}
    location, message = only_problem(machine({"A": choice, "B": PASS_END}))
    assert location == "$.States.A.Choices[0].Condition"
    assert "JSONata-only" in message


def test_jsonata_expressions_must_parse_wherever_they_appear() -> None:
    state = {
        **TASK,
        "Arguments": {
            "order": {"total": "{% $states.input.total + %}"},
            "plain": "{ not % JSONata",
        },
        "Output": ["{% $states.result %}", "{% ) %}"],
        "Assign": {"seen": "{% $count( %}"},
    }
    locations = [location for location, _ in problems(_jsonata(state))]
    assert locations == [
        "$.States.A.Arguments.order.total",
        "$.States.A.Assign.seen",
        "$.States.A.Output[1]",
    ]


def test_an_empty_expression_is_an_error() -> None:
    location, message = only_problem(_jsonata({**PASS_END, "Output": "{%  %}"}))
    assert location == "$.States.A.Output"
    assert "empty" in message


def test_jsonata_arguments_may_be_one_expression() -> None:
    assert problems(_jsonata({**TASK, "Arguments": "{% $states.input %}"})) == []
    location, _ = only_problem(_jsonata({**TASK, "Arguments": [1, 2]}))
    assert location == "$.States.A.Arguments"


def test_in_a_jsonpath_state_braces_are_plain_text() -> None:
    assert problems(one_state({**PASS_END, "Result": "{% not parsed %}"})) == []


@pytest.mark.parametrize("name", ["1st", "with space", "dash-ed", "states", "x" * 81])
def test_assigned_variable_names_must_be_usable(name: str) -> None:
    location, message = only_problem(one_state({**PASS_END, "Assign": {name: 1}}))
    assert location.startswith("$.States.A.Assign")
    assert "variable name" in message


def test_jsonpath_assign_keys_may_end_in_dollar_to_read_a_path() -> None:
    assert problems(one_state({**PASS_END, "Assign": {"total.$": "$.total", "_n2": 0}})) == []


def test_assign_must_be_an_object() -> None:
    location, _ = only_problem(one_state({**PASS_END, "Assign": ["x"]}))
    assert location == "$.States.A.Assign"


@pytest.mark.parametrize("field", ["Parameters", "ResultSelector"])
def test_payload_templates_must_be_objects(field: str) -> None:
    location, message = only_problem(one_state({**TASK, field: "$"}))
    assert location == f"$.States.A.{field}"
    assert "must be a JSON object" in message


def test_dynamic_template_values_are_checked_where_they_are_written() -> None:
    parameters = {
        "FunctionName": "book-shipment",
        "Payload": {"orderId.$": "order.id", "token.$": "$$.Task.Token"},
        "key.$": "States.Format('{}-ship', $.order.id)",
    }
    location, message = only_problem(one_state({**TASK, "Parameters": parameters}))
    assert location == "$.States.A.Parameters.Payload['orderId.$']"
    assert "not a valid JSONPath or intrinsic function" in message


def test_unknown_intrinsic_functions_are_refused() -> None:
    location, message = only_problem(
        one_state({**TASK, "ResultSelector": {"id.$": "States.Nope($.id)"}})
    )
    assert location == "$.States.A.ResultSelector['id.$']"
    assert "States.Nope" in message


def test_a_dynamic_value_must_be_a_string() -> None:
    location, _ = only_problem(one_state({**PASS_END, "Parameters": {"n.$": 5}}))
    assert location == "$.States.A.Parameters['n.$']"


def test_jsonpath_assign_values_read_through_dollar_keys_are_checked() -> None:
    location, _ = only_problem(one_state({**PASS_END, "Assign": {"total.$": "total"}}))
    assert location == "$.States.A.Assign['total.$']"


def test_fail_paths_that_are_broken_intrinsics_are_refused() -> None:
    location, message = only_problem(one_state({"Type": "Fail", "CausePath": "States.Format($.x"}))
    assert location == "$.States.A.CausePath"
    assert "States.Format($.x" in message
