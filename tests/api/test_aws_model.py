"""Requests checked against botocore's service model, refused in AWS's words; answers
written in the model's output shapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stepstream.api.aws_model import check_input, encode_output
from stepstream.api.errors import ApiError


def refusal(operation: str, params: object) -> ApiError:
    with pytest.raises(ApiError) as raised:
        check_input(operation, params)
    return raised.value


def test_a_request_that_fits_its_shape_passes() -> None:
    check_input("ListExecutions", {"statusFilter": "RUNNING", "maxResults": 10})
    check_input(
        "CreateStateMachine",
        {"name": "M", "definition": "{}", "roleArn": "r", "tags": [{"key": "k", "value": "v"}]},
    )


def test_every_problem_is_named_at_once_as_aws_words_it() -> None:
    error = refusal("CreateStateMachine", {"name": "M", "definition": 7})
    assert error.code == "ValidationException"
    assert error.message.startswith("2 validation errors detected: ")
    assert "Value null at 'roleArn' failed to satisfy constraint: Member must not be null" in (
        error.message
    )
    assert "Value '7' at 'definition' failed to satisfy constraint: Member must be of type" in (
        error.message
    )


@pytest.mark.parametrize(
    ("operation", "params", "complaint"),
    [
        ("ListExecutions", {"statusFilter": "NAPPING"}, "Member must satisfy enum value set"),
        ("ListExecutions", {"maxResults": 1001}, "less than or equal to 1000"),
        ("ListExecutions", {"maxResults": True}, "Member must be of type integer"),
        ("StartExecution", {"stateMachineArn": ""}, "length greater than or equal to 1"),
        (
            "CreateStateMachine",
            {"name": "M", "definition": "{}", "roleArn": "r", "tags": [{"key": 5}]},
            "'tags.1.member.key'",
        ),
    ],
)
def test_each_constraint_of_the_model_is_checked(
    operation: str, params: dict[str, object], complaint: str
) -> None:
    assert complaint in refusal(operation, params).message


def test_a_body_that_is_not_an_object_and_an_unknown_operation_are_refused() -> None:
    assert refusal("ListExecutions", [1, 2]).code == "SerializationException"
    assert refusal("BrewCoffee", {}).code == "UnknownOperationException"


def test_answers_keep_the_shapes_members_with_dates_as_epoch_seconds() -> None:
    started = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    encoded = encode_output(
        "DescribeExecution",
        {
            "executionArn": "a",
            "stateMachineArn": "m",
            "status": "RUNNING",
            "startDate": started.isoformat(),
            "stopDate": None,
            "bindings": "not in the shape",
        },
    )
    assert encoded == {
        "executionArn": "a",
        "stateMachineArn": "m",
        "status": "RUNNING",
        "startDate": started.timestamp(),
    }
    history = encode_output(
        "GetExecutionHistory", {"events": [{"id": 1, "timestamp": started, "scope": "x"}]}
    )
    assert history == {"events": [{"id": 1, "timestamp": started.timestamp()}]}
