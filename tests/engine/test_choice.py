"""Choice: the first rule that holds picks the next state; else Default; else
States.NoChoiceMatched. Every operator family runs here through a whole machine; the
rules' fine points have their own unit tests (tests/asl/test_choice_rules.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.support import entered, machine, of_type, run, types


def choose(rule: dict[str, Any], execution_input: Any) -> str:
    """Which way a Choice with one rule (to "Yes") and a Default ("No") goes."""
    definition = machine(
        {
            "Decide": {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}], "Default": "No"},
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Succeed"},
        }
    )
    local = run(definition, execution_input)
    assert local.execution.status == "SUCCEEDED", local.result()
    return entered(local.history)[-1]


V = "$.value"
T0 = "2026-03-14T01:59:00Z"
T1 = "2026-03-14T02:00:00+00:00"

RULES: list[tuple[dict[str, Any], Any, str]] = [
    ({"Variable": V, "StringEquals": "go"}, {"value": "go"}, "Yes"),
    ({"Variable": V, "StringEquals": "go"}, {"value": "stop"}, "No"),
    ({"Variable": V, "StringEquals": "1"}, {"value": 1}, "No"),
    ({"Variable": V, "StringEqualsPath": "$.other"}, {"value": "a", "other": "a"}, "Yes"),
    ({"Variable": V, "StringLessThan": "b"}, {"value": "a"}, "Yes"),
    ({"Variable": V, "StringGreaterThan": "b"}, {"value": "a"}, "No"),
    ({"Variable": V, "StringLessThanEquals": "a"}, {"value": "a"}, "Yes"),
    (
        {"Variable": V, "StringGreaterThanEqualsPath": "$.other"},
        {"value": "b", "other": "a"},
        "Yes",
    ),
    ({"Variable": V, "StringMatches": "log-*.txt"}, {"value": "log-2026.txt"}, "Yes"),
    ({"Variable": V, "StringMatches": "log-*.txt"}, {"value": "log-2026.csv"}, "No"),
    ({"Variable": V, "NumericEquals": 3}, {"value": 3.0}, "Yes"),
    ({"Variable": V, "NumericEquals": 3}, {"value": "3"}, "No"),
    ({"Variable": V, "NumericLessThan": 3}, {"value": 2.5}, "Yes"),
    ({"Variable": V, "NumericGreaterThan": 3}, {"value": 3}, "No"),
    ({"Variable": V, "NumericLessThanEquals": 3}, {"value": 3}, "Yes"),
    ({"Variable": V, "NumericGreaterThanEquals": 3}, {"value": 2}, "No"),
    ({"Variable": V, "NumericLessThanPath": "$.limit"}, {"value": 1, "limit": 2}, "Yes"),
    ({"Variable": V, "NumericEqualsPath": "$.limit"}, {"value": 1, "limit": 2}, "No"),
    ({"Variable": V, "BooleanEquals": True}, {"value": True}, "Yes"),
    ({"Variable": V, "BooleanEquals": True}, {"value": "true"}, "No"),
    ({"Variable": V, "BooleanEqualsPath": "$.flag"}, {"value": False, "flag": False}, "Yes"),
    ({"Variable": V, "TimestampEquals": T0}, {"value": "2026-03-14T02:59:00+01:00"}, "Yes"),
    ({"Variable": V, "TimestampLessThan": T1}, {"value": T0}, "Yes"),
    ({"Variable": V, "TimestampGreaterThan": T1}, {"value": T0}, "No"),
    ({"Variable": V, "TimestampLessThanEquals": T0}, {"value": T0}, "Yes"),
    ({"Variable": V, "TimestampGreaterThanEqualsPath": "$.at"}, {"value": T1, "at": T0}, "Yes"),
    ({"Variable": V, "TimestampEquals": T0}, {"value": "2026-03-14 01:59:00"}, "No"),
    ({"Variable": V, "IsNull": True}, {"value": None}, "Yes"),
    ({"Variable": V, "IsNull": True}, {"value": 0}, "No"),
    ({"Variable": V, "IsPresent": True}, {"value": None}, "Yes"),
    ({"Variable": V, "IsPresent": True}, {}, "No"),
    ({"Variable": V, "IsPresent": False}, {}, "Yes"),
    ({"Variable": V, "IsNumeric": True}, {"value": 1.5}, "Yes"),
    ({"Variable": V, "IsNumeric": True}, {"value": "1.5"}, "No"),
    ({"Variable": V, "IsString": True}, {"value": "x"}, "Yes"),
    ({"Variable": V, "IsBoolean": True}, {"value": False}, "Yes"),
    ({"Variable": V, "IsBoolean": True}, {"value": 0}, "No"),
    ({"Variable": V, "IsTimestamp": True}, {"value": T0}, "Yes"),
    ({"Variable": V, "IsTimestamp": True}, {"value": "yesterday"}, "No"),
    (
        {
            "And": [
                {"Variable": "$.a", "NumericGreaterThan": 1},
                {"Variable": "$.b", "StringEquals": "x"},
            ]
        },
        {"a": 2, "b": "x"},
        "Yes",
    ),
    (
        {
            "And": [
                {"Variable": "$.a", "NumericGreaterThan": 1},
                {"Variable": "$.b", "StringEquals": "x"},
            ]
        },
        {"a": 2, "b": "y"},
        "No",
    ),
    (
        {
            "Or": [
                {"Variable": "$.a", "NumericGreaterThan": 1},
                {"Variable": "$.b", "StringEquals": "x"},
            ]
        },
        {"a": 0, "b": "x"},
        "Yes",
    ),
    ({"Not": {"Variable": V, "StringEquals": "go"}}, {"value": "stop"}, "Yes"),
    (
        {"Not": {"Or": [{"Variable": V, "IsPresent": False}, {"Variable": V, "IsNull": True}]}},
        {"value": 1},
        "Yes",
    ),
]


@pytest.mark.parametrize(
    ("rule", "execution_input", "way"), RULES, ids=[str(r[0]) + str(r[1]) for r in RULES]
)
def test_each_operator_through_a_machine(
    rule: dict[str, Any], execution_input: Any, way: str
) -> None:
    assert choose(rule, execution_input) == way


def test_the_first_matching_rule_wins() -> None:
    definition = machine(
        {
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
                    {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Positive"},
                    {"Variable": "$.n", "NumericGreaterThan": 5, "Next": "Never"},
                ],
                "Default": "Other",
            },
            "Big": {"Type": "Succeed"},
            "Positive": {"Type": "Succeed"},
            "Never": {"Type": "Succeed"},
            "Other": {"Type": "Succeed"},
        }
    )
    assert entered(run(definition, {"n": 11}).history)[-1] == "Big"
    assert entered(run(definition, {"n": 7}).history)[-1] == "Positive"
    assert entered(run(definition, {"n": -1}).history)[-1] == "Other"


def test_without_a_match_or_default_the_state_fails_with_no_choice_matched() -> None:
    definition = machine(
        {
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}],
            },
            "One": {"Type": "Succeed"},
        }
    )
    local = run(definition, {"n": 2})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "States.NoChoiceMatched"
    assert types(local.history) == ["ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"]


def test_a_comparison_on_a_missing_field_is_a_runtime_error() -> None:
    local = run(
        machine(
            {
                "Decide": {
                    "Type": "Choice",
                    "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "One"}],
                    "Default": "One",
                },
                "One": {"Type": "Succeed"},
            }
        ),
        {},
    )
    assert local.execution.error == "States.Runtime"


def test_choice_passes_its_input_on_through_input_and_output_path() -> None:
    definition = machine(
        {
            "Decide": {
                "Type": "Choice",
                "InputPath": "$.order",
                "OutputPath": "$.lines",
                "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}],
                "Default": "Ship",
            },
            "Review": {"Type": "Pass", "End": True},
            "Ship": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {"order": {"total": 150, "lines": [1, 2]}, "other": True})
    assert entered(local.history) == ["Decide", "Review"]
    assert local.execution.output == [1, 2]
    exited = of_type(local.history, "ChoiceStateExited")[0]
    assert exited.details.output == [1, 2]  # type: ignore[union-attr]


def test_a_rule_may_read_the_context_object_and_variables() -> None:
    definition = machine(
        {
            "Remember": {"Type": "Pass", "Assign": {"limit": 3}, "Next": "Decide"},
            "Decide": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.n", "NumericLessThanPath": "$limit"},
                            {"Variable": "$$.State.Name", "StringEquals": "Decide"},
                        ],
                        "Next": "Small",
                    }
                ],
                "Default": "Large",
            },
            "Small": {"Type": "Succeed"},
            "Large": {"Type": "Succeed"},
        }
    )
    assert entered(run(definition, {"n": 2}).history)[-1] == "Small"
    assert entered(run(definition, {"n": 4}).history)[-1] == "Large"


def test_a_choice_loop_counts_down() -> None:
    definition = machine(
        {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThan": 0, "Next": "Decrement"}],
                "Default": "Done",
            },
            "Decrement": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, -1)"},
                "Next": "Check",
            },
            "Done": {"Type": "Succeed"},
        }
    )
    local = run(definition, {"n": 3})
    assert entered(local.history) == ["Check", "Decrement"] * 3 + ["Check", "Done"]
    assert local.execution.output == {"n": 0}
