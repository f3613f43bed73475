"""Retry and Catch: retrier fields and ranges, catchers, and where States.ALL may go."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import PASS_END, TASK, machine, one_state, only_problem, problems


def _retry(*retriers: dict[str, Any]) -> dict[str, Any]:
    return one_state({**TASK, "Retry": list(retriers)})


def _catch(*catchers: dict[str, Any], **state: Any) -> dict[str, Any]:
    return machine({"A": {**TASK, **state, "Catch": list(catchers)}, "Handle": PASS_END})


def test_a_complete_retrier_is_valid() -> None:
    retrier = {
        "ErrorEquals": ["CarrierRateLimited", "States.Timeout"],
        "IntervalSeconds": 2,
        "MaxAttempts": 5,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
        "Comment": "back off",
    }
    assert problems(_retry(retrier)) == []


def test_retry_must_be_an_array() -> None:
    location, message = only_problem(one_state({**TASK, "Retry": {"ErrorEquals": ["E"]}}))
    assert (location, message.split(",")[0]) == ("$.States.A.Retry", "must be an array")


def test_error_equals_is_required() -> None:
    assert only_problem(_retry({"MaxAttempts": 2})) == (
        "$.States.A.Retry[0]",
        "required field 'ErrorEquals' is missing",
    )


@pytest.mark.parametrize("names", [[], "States.ALL", [3], [""]])
def test_error_equals_is_a_non_empty_array_of_names(names: Any) -> None:
    location, _ = only_problem(_retry({"ErrorEquals": names}))
    assert location.startswith("$.States.A.Retry[0].ErrorEquals")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("IntervalSeconds", 0, "must be an integer from 1 to 99999999, got 0"),
        ("IntervalSeconds", 100_000_000, "must be an integer from 1 to 99999999, got 100000000"),
        ("IntervalSeconds", 1.5, "must be an integer from 1 to 99999999, got number 1.5"),
        ("MaxAttempts", -1, "must be an integer from 0 to 99999999, got -1"),
        ("MaxAttempts", "3", 'must be an integer from 0 to 99999999, got string "3"'),
        ("MaxDelaySeconds", 0, "must be an integer from 1 to 31622400, got 0"),
        ("BackoffRate", 0.5, "must be a number at least 1.0, got 0.5"),
        ("BackoffRate", True, "must be a number at least 1.0, got boolean true"),
        ("JitterStrategy", "HALF", "must be one of 'FULL', 'NONE', got \"HALF\""),
    ],
)
def test_retrier_fields_have_aws_ranges(field: str, value: Any, expected: str) -> None:
    assert only_problem(_retry({"ErrorEquals": ["E"], field: value})) == (
        f"$.States.A.Retry[0].{field}",
        expected,
    )


def test_max_attempts_zero_disables_retries_and_is_valid() -> None:
    assert problems(_retry({"ErrorEquals": ["E"], "MaxAttempts": 0})) == []


def test_unknown_retrier_fields_are_errors() -> None:
    assert only_problem(_retry({"ErrorEquals": ["E"], "Attempts": 3})) == (
        "$.States.A.Retry[0].Attempts",
        "unknown field 'Attempts' in a retrier",
    )


def test_states_all_must_stand_alone() -> None:
    assert only_problem(_retry({"ErrorEquals": ["States.ALL", "Other"]})) == (
        "$.States.A.Retry[0].ErrorEquals",
        "States.ALL must appear alone in ErrorEquals",
    )


def test_states_all_only_in_the_last_retrier() -> None:
    location, message = only_problem(
        _retry({"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["E"]})
    )
    assert location == "$.States.A.Retry[0].ErrorEquals"
    assert "only in the last retrier" in message


def test_states_all_only_in_the_last_catcher() -> None:
    definition = _catch(
        {"ErrorEquals": ["States.ALL"], "Next": "Handle"},
        {"ErrorEquals": ["E"], "Next": "Handle"},
    )
    location, message = only_problem(definition)
    assert location == "$.States.A.Catch[0].ErrorEquals"
    assert "only in the last catcher" in message


def test_a_complete_catcher_is_valid() -> None:
    catcher = {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.errorInfo",
        "Assign": {"failed": True},
        "Comment": "to the handler",
        "Next": "Handle",
    }
    assert problems(_catch(catcher)) == []


def test_a_catcher_needs_next() -> None:
    definition = machine({"A": {**TASK, "Catch": [{"ErrorEquals": ["E"]}]}})
    assert only_problem(definition) == (
        "$.States.A.Catch[0]",
        "required field 'Next' is missing: a catcher must name the state to go to",
    )


def test_a_catcher_next_must_name_an_existing_state() -> None:
    location, message = only_problem(
        _catch({"ErrorEquals": ["E"], "Next": "Handle"}, {"ErrorEquals": ["F"], "Next": "Nope"})
    )
    assert (location, message) == ("$.States.A.Catch[1].Next", "state 'Nope' does not exist")


@pytest.mark.parametrize("result_path", ["$.errors[*]", "$$.Execution.Id", "errorInfo", 5])
def test_catcher_result_path_must_be_a_reference_path(result_path: Any) -> None:
    location, _ = only_problem(
        _catch({"ErrorEquals": ["E"], "ResultPath": result_path, "Next": "Handle"})
    )
    assert location == "$.States.A.Catch[0].ResultPath"


def test_catcher_result_path_may_be_null() -> None:
    assert problems(_catch({"ErrorEquals": ["E"], "ResultPath": None, "Next": "Handle"})) == []


def test_jsonata_catchers_take_output_not_result_path() -> None:
    jsonata = {"QueryLanguage": "JSONata"}
    good = {"ErrorEquals": ["E"], "Output": "{% $states.errorOutput %}", "Next": "Handle"}
    assert problems(_catch(good, **jsonata)) == []
    bad = {"ErrorEquals": ["E"], "ResultPath": "$.e", "Next": "Handle"}
    location, message = only_problem(_catch(bad, **jsonata))
    assert location == "$.States.A.Catch[0].ResultPath"
    assert "JSONPath-only" in message


def test_jsonpath_catchers_take_no_output() -> None:
    location, message = only_problem(_catch({"ErrorEquals": ["E"], "Output": {}, "Next": "Handle"}))
    assert location == "$.States.A.Catch[0].Output"
    assert "JSONata-only" in message


def test_states_all_must_stand_alone_in_a_catcher_too() -> None:
    location, message = only_problem(_catch({"ErrorEquals": ["E", "States.ALL"], "Next": "Handle"}))
    assert (location, message) == (
        "$.States.A.Catch[0].ErrorEquals",
        "States.ALL must appear alone in ErrorEquals",
    )


def test_unknown_catcher_fields_are_errors() -> None:
    assert only_problem(_catch({"ErrorEquals": ["E"], "Goto": "Handle", "Next": "Handle"})) == (
        "$.States.A.Catch[0].Goto",
        "unknown field 'Goto' in a catcher",
    )
