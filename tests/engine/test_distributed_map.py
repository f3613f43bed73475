"""A Distributed Map (ProcessorConfig Mode DISTRIBUTED) with its items in the state input.

From the Step Functions guide ("Distributed Map state"): its children are counted as one
map run (MapRunStarted, then MapRunSucceeded or MapRunFailed, with the run's ARN named
after the state's Label); an ItemBatcher hands each child ``{"Items": [...],
"BatchInput": ...}`` of at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes;
tolerated failures work as in an inline Map. ItemReader and ResultWriter read from and
write to S3, which is not here: such a definition is refused, naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepstream.asl.machine import load_machine
from stepstream.asl.validation import InvalidDefinition
from tests.engine.support import details, lambda_task, machine, of_type, replaying, run


def distributed(processor_states: dict[str, Any], **fields: Any) -> dict[str, Any]:
    start = next(iter(processor_states))
    return {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": start,
            "States": processor_states,
        },
        "End": True,
        **fields,
    }


ECHO = {"Echo": {"Type": "Pass", "End": True}}


def test_it_runs_every_item_of_the_input_as_one_map_run() -> None:
    definition = machine({"Fan": distributed(ECHO, ItemsPath="$.orders", Label="orders")})
    local = replaying(definition)
    local.run({"orders": [1, 2, 3]})
    assert local.execution.output == [1, 2, 3]
    [started] = of_type(local.history, "MapRunStarted")
    arn = details(started)["mapRunArn"]
    assert arn.startswith(local.execution.state.state_machine_arn.replace("stateMachine", "mapRun"))
    assert "/orders:" in arn
    assert len(of_type(local.history, "MapRunSucceeded")) == 1
    kinds = [e.type for e in local.history if e.type.startswith("Map")]
    assert kinds[:3] == ["MapStateEntered", "MapStateStarted", "MapRunStarted"]
    assert kinds[-3:] == ["MapRunSucceeded", "MapStateSucceeded", "MapStateExited"]


def test_without_a_label_the_run_is_named_after_the_state() -> None:
    local = run(machine({"Fan": distributed(ECHO)}), [1])
    [started] = of_type(local.history, "MapRunStarted")
    assert "/Fan:" in details(started)["mapRunArn"]


def test_an_item_batcher_hands_each_child_a_batch_with_its_batch_input() -> None:
    seen: list[Any] = []

    def take(event: Any, context: Any) -> Any:
        seen.append(event)
        return len(event["Items"])

    definition = machine(
        {
            "Fan": distributed(
                {"Take": lambda_task("take", End=True)},
                ItemsPath="$.items",
                ItemSelector={"sku.$": "$$.Map.Item.Value", "at.$": "$$.Map.Item.Index"},
                ItemBatcher={"MaxItemsPerBatch": 2, "BatchInput": {"order.$": "$.order"}},
                MaxConcurrency=1,
            )
        }
    )
    local = run(definition, {"order": "o-1", "items": ["a", "b", "c", "d", "e"]}, {"take": take})
    assert local.execution.output == [2, 2, 1]
    assert seen[0] == {
        "Items": [{"sku": "a", "at": 0}, {"sku": "b", "at": 1}],
        "BatchInput": {"order": "o-1"},
    }
    assert seen[2]["Items"] == [{"sku": "e", "at": 4}]


def test_max_input_bytes_per_batch_bounds_each_batch() -> None:
    definition = machine({"Fan": distributed(ECHO, ItemBatcher={"MaxInputBytesPerBatch": 12})})
    # Each "xxxx" is 6 bytes of JSON, 7 with its comma: one per batch, then a pair fits.
    local = run(definition, ["xxxx", "xxxx", "y", "z"])
    assert local.execution.output == [
        {"Items": ["xxxx"]},
        {"Items": ["xxxx", "y"]},
        {"Items": ["z"]},
    ]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 99), max_size=12), st.integers(1, 5))
def test_batches_keep_every_item_in_order_and_within_the_limit(items: list[int], size: int) -> None:
    definition = machine(
        {
            "Fan": distributed(
                ECHO, ItemBatcher={"MaxItemsPerBatchPath": "$.size"}, ItemsPath="$.items"
            )
        }
    )
    local = run(definition, {"items": items, "size": size})
    batches = [batch["Items"] for batch in local.execution.output]
    assert [item for batch in batches for item in batch] == items
    assert all(1 <= len(batch) <= size for batch in batches)
    assert len(batches) == -(-len(items) // size)


def test_a_batch_size_path_must_name_a_positive_integer() -> None:
    definition = machine(
        {"Fan": distributed(ECHO, ItemBatcher={"MaxItemsPerBatchPath": "$.n"}, ItemsPath="$.items")}
    )
    local = run(definition, {"items": [1], "n": 0})
    assert local.execution.error == "States.Runtime"
    assert local.execution.cause is not None
    assert local.execution.cause.endswith(
        'The MaxItemsPerBatchPath field refers to value "0" which is not a valid positive '
        "integer: $.n"
    )


def test_tolerated_failures_end_the_map_run_too() -> None:
    def check(event: Any, context: Any) -> Any:
        if event % 2:
            raise ValueError(f"odd {event}")
        return event

    definition = machine(
        {
            "Fan": distributed(
                {"Check": lambda_task("check", End=True)},
                ToleratedFailurePercentagePath="$.tolerated",
                ItemsPath="$.items",
            )
        }
    )
    local = run(definition, {"items": [0, 1, 2, 3], "tolerated": 25}, {"check": check})
    assert local.execution.error == "States.ExceedToleratedFailureThreshold"
    [failed] = of_type(local.history, "MapRunFailed")
    assert details(failed)["error"] == "States.ExceedToleratedFailureThreshold"

    local = run(definition, {"items": [0, 1, 2, 3], "tolerated": 50}, {"check": check})
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == [0, None, 2, None]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ItemReader", {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {}}),
        ("ResultWriter", {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {}}),
    ],
)
def test_what_needs_s3_is_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidDefinition) as refused:
        load_machine(machine({"Fan": distributed(ECHO, **{field: value})}))
    assert f"$.States.Fan.{field}" in str(refused.value)
    assert "S3" in str(refused.value)
