"""Field values of Task, Wait, Fail and Pass states, and the fields that exclude each other."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import TASK, one_state, only_problem, problems


def test_a_task_needs_a_resource() -> None:
    assert only_problem(one_state({"Type": "Task", "End": True})) == (
        "$.States.A",
        "required field 'Resource' is missing in a Task state",
    )


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:lambda:us-east-1:123456789012:function:MockAPIFunction",
        "arn:aws-cn:states:cn-north-1:123456789012:activity:review",
    ],
)
def test_task_resources_are_arns(resource: str) -> None:
    assert problems(one_state({**TASK, "Resource": resource})) == []


@pytest.mark.parametrize("resource", ["book-shipment", "arn:aws", "arn::states:::x", ""])
def test_a_resource_that_is_not_an_arn_is_refused(resource: str) -> None:
    location, _ = only_problem(one_state({**TASK, "Resource": resource}))
    assert location == "$.States.A.Resource"


@pytest.mark.parametrize("field", ["TimeoutSeconds", "HeartbeatSeconds"])
@pytest.mark.parametrize("value", [0, -1, 2.5, "10", 100_000_000])
def test_task_timeouts_are_positive_integers(field: str, value: Any) -> None:
    location, message = only_problem(one_state({**TASK, field: value}))
    assert location == f"$.States.A.{field}"
    assert "must be an integer from 1 to 99999999" in message


def test_heartbeat_must_be_shorter_than_the_timeout() -> None:
    state = {**TASK, "TimeoutSeconds": 60, "HeartbeatSeconds": 60}
    assert only_problem(one_state(state)) == (
        "$.States.A.HeartbeatSeconds",
        "must be less than TimeoutSeconds (60), got 60",
    )
    assert problems(one_state({**state, "HeartbeatSeconds": 59})) == []


@pytest.mark.parametrize(
    ("literal", "path"),
    [("TimeoutSeconds", "TimeoutSecondsPath"), ("HeartbeatSeconds", "HeartbeatSecondsPath")],
)
def test_a_timeout_is_given_as_a_literal_or_a_path_not_both(literal: str, path: str) -> None:
    state = {**TASK, literal: 10, path: "$.limit"}
    location, message = only_problem(one_state(state))
    assert location == f"$.States.A.{path}"
    assert f"cannot be used together with {literal}" in message


def test_timeout_paths_must_be_reference_paths() -> None:
    location, message = only_problem(one_state({**TASK, "TimeoutSecondsPath": "$.limits[*]"}))
    assert location == "$.States.A.TimeoutSecondsPath"
    assert "reference path" in message


def test_jsonata_tasks_take_timeouts_as_expressions() -> None:
    state = {**TASK, "QueryLanguage": "JSONata", "TimeoutSeconds": "{% $states.input.t %}"}
    assert problems(one_state(state)) == []


def test_jsonpath_tasks_do_not_take_timeouts_as_expressions() -> None:
    location, _ = only_problem(one_state({**TASK, "TimeoutSeconds": "{% 5 %}"}))
    assert location == "$.States.A.TimeoutSeconds"


def test_credentials_need_exactly_one_role() -> None:
    assert problems(one_state({**TASK, "Credentials": {"RoleArn": "arn:aws:iam::1:role/r"}})) == []
    location, message = only_problem(one_state({**TASK, "Credentials": {}}))
    assert location == "$.States.A.Credentials"
    assert "exactly one of RoleArn or RoleArnPath" in message


def test_a_wait_state_needs_one_way_to_wait() -> None:
    assert only_problem(one_state({"Type": "Wait", "End": True})) == (
        "$.States.A",
        "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
    )


def test_a_wait_state_takes_only_one_way_to_wait() -> None:
    state = {"Type": "Wait", "Seconds": 5, "TimestampPath": "$.at", "End": True}
    location, message = only_problem(one_state(state))
    assert location == "$.States.A.TimestampPath"
    assert "cannot be used together with Seconds" in message


@pytest.mark.parametrize("seconds", [-1, 1.5, "5", 100_000_000])
def test_wait_seconds_is_a_non_negative_integer(seconds: Any) -> None:
    location, message = only_problem(one_state({"Type": "Wait", "Seconds": seconds, "End": True}))
    assert location == "$.States.A.Seconds"
    assert "must be an integer from 0 to 99999999" in message


@pytest.mark.parametrize(
    "timestamp", ["2026-03-14T01:59:00Z", "2026-03-14T01:59:00.123+02:00", "2024-02-29T23:59:60Z"]
)
def test_wait_timestamps_follow_rfc_3339(timestamp: str) -> None:
    assert problems(one_state({"Type": "Wait", "Timestamp": timestamp, "End": True})) == []


@pytest.mark.parametrize(
    "timestamp",
    ["2026-03-14 01:59:00Z", "2026-03-14t01:59:00z", "2026-03-14T01:59:00", "2026-13-14T01:59:00Z"],
)
def test_wait_timestamps_that_are_not_rfc_3339_are_refused(timestamp: str) -> None:
    location, _ = only_problem(one_state({"Type": "Wait", "Timestamp": timestamp, "End": True}))
    assert location == "$.States.A.Timestamp"


@pytest.mark.parametrize("field", ["SecondsPath", "TimestampPath"])
def test_wait_paths_must_be_reference_paths(field: str) -> None:
    location, _ = only_problem(one_state({"Type": "Wait", field: "$..when", "End": True}))
    assert location == f"$.States.A.{field}"


@pytest.mark.parametrize(("literal", "path"), [("Error", "ErrorPath"), ("Cause", "CausePath")])
def test_fail_takes_a_literal_or_a_path_not_both(literal: str, path: str) -> None:
    state = {"Type": "Fail", literal: "Boom", path: "$.why"}
    location, message = only_problem(one_state(state))
    assert location == f"$.States.A.{path}"
    assert f"cannot be used together with {literal}" in message


def test_fail_paths_may_be_intrinsic_functions() -> None:
    state = {"Type": "Fail", "ErrorPath": "$.error", "CausePath": "States.Format('{}', $.why)"}
    assert problems(one_state(state)) == []


def test_fail_error_must_be_a_string() -> None:
    location, _ = only_problem(one_state({"Type": "Fail", "Error": 500}))
    assert location == "$.States.A.Error"


def test_fail_takes_no_input_or_output_paths() -> None:
    location, message = only_problem(one_state({"Type": "Fail", "InputPath": "$"}))
    assert (location, message) == (
        "$.States.A.InputPath",
        "field 'InputPath' is not allowed in a Fail state",
    )


def test_jsonata_fail_may_compute_error_and_cause() -> None:
    state = {"Type": "Fail", "QueryLanguage": "JSONata", "Error": "{% $states.input.code %}"}
    assert problems(one_state(state)) == []


def test_a_jsonata_literal_error_says_an_expression_would_do() -> None:
    state = {**TASK, "QueryLanguage": "JSONata", "TimeoutSeconds": "soon"}
    assert only_problem(one_state(state)) == (
        "$.States.A.TimeoutSeconds",
        "must be an integer from 1 to 99999999 or a JSONata expression '{% ... %}',"
        ' got string "soon"',
    )


def test_next_must_be_a_state_name_string() -> None:
    location, message = only_problem(one_state({"Type": "Pass", "Next": 5}))
    assert (location, message) == ("$.States.A.Next", "must be a string, got integer 5")


def test_jsonata_credentials_take_no_role_path() -> None:
    state = {**TASK, "QueryLanguage": "JSONata", "Credentials": {"RoleArnPath": "$.role"}}
    assert problems(one_state(state)) == [
        ("$.States.A.Credentials", "Credentials needs exactly one of RoleArn, found 0"),
        ("$.States.A.Credentials.RoleArnPath", "field 'RoleArnPath' is not allowed in Credentials"),
    ]
