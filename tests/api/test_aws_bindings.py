"""Where the tasks of a machine created over the AWS API run: defaults by function name,
then the previous version's bindings, the bindings file, and the tag, each over the last."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stepstream.api.aws_bindings import (
    BINDINGS_TAG,
    bindings_for,
    read_bindings_file,
    tagged_bindings,
)
from stepstream.api.errors import ApiError
from stepstream.bindings import Bindings, InvalidBindings, PublishBinding

QUEUE = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"


def task(resource: str, parameters: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **more}


DEFINITION = json.dumps(
    {
        "StartAt": "Charge",
        "States": {
            "Charge": task(
                "arn:aws:states:::lambda:invoke", {"FunctionName": "charge"}, Next="Ask"
            ),
            "Ask": task(
                QUEUE, {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, End=True
            ),
        },
    }
)


def bound(**layers: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(bindings_for("Shop", DEFINITION, **layers))
    return loaded


def test_a_lambda_function_runs_on_the_service_of_its_name() -> None:
    assert bound(configured={}) == {"functions": {"charge": "charge"}, "resources": {}}


def test_the_file_then_the_tag_override_function_by_function() -> None:
    configured = {
        "*": Bindings(resources={QUEUE: PublishBinding(topic="everyone")}),
        "Shop": Bindings(functions={"charge": "payments"}),
        "Other": Bindings(functions={"charge": "not-this-one"}),
    }
    tag = Bindings(resources={QUEUE: PublishBinding(topic="review")})
    assert bound(configured=configured) == {
        "functions": {"charge": "payments"},
        "resources": {QUEUE: {"topic": "everyone"}},
    }
    assert bound(configured=configured, tagged=tag)["resources"] == {QUEUE: {"topic": "review"}}


def test_an_update_keeps_the_previous_bindings_but_not_what_is_no_longer_used() -> None:
    previous = json.dumps(
        {"functions": {"charge": "payments", "gone": "old"}, "resources": {QUEUE: {"topic": "r"}}}
    )
    assert bound(configured={}, previous=previous) == {
        "functions": {"charge": "payments"},
        "resources": {QUEUE: {"topic": "r"}},
    }


def test_the_tag_and_the_file_are_read_or_refused_clearly(tmp_path: Path) -> None:
    value = json.dumps({"functions": {"charge": "payments"}})
    assert tagged_bindings([{"key": "other", "value": "x"}]) is None
    assert tagged_bindings([{"key": BINDINGS_TAG, "value": value}]) == Bindings(
        functions={"charge": "payments"}
    )
    with pytest.raises(ApiError, match=BINDINGS_TAG) as bad_tag:
        tagged_bindings([{"key": BINDINGS_TAG, "value": "{not json"}])
    assert bad_tag.value.code == "ValidationException"

    path = tmp_path / "bindings.json"
    path.write_text(json.dumps({"Shop": {"functions": {"charge": "payments"}}}))
    assert read_bindings_file(path) == {"Shop": Bindings(functions={"charge": "payments"})}
    assert read_bindings_file(None) == {}
    path.write_text("[1]")
    with pytest.raises(InvalidBindings, match=str(path)):
        read_bindings_file(path)
