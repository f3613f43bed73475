"""Parallel branches and Map states: nested scopes, processing modes and Map's own fields."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import PASS_END, one_state, only_problem, problems


def _parallel(*branches: Any, **fields: Any) -> dict[str, Any]:
    return one_state({"Type": "Parallel", "Branches": list(branches), "End": True, **fields})


def _map(**fields: Any) -> dict[str, Any]:
    processor = {"StartAt": "Item", "States": {"Item": PASS_END}}
    return one_state({"Type": "Map", "ItemProcessor": processor, "End": True, **fields})


def test_a_parallel_state_needs_branches() -> None:
    assert only_problem(one_state({"Type": "Parallel", "End": True})) == (
        "$.States.A",
        "required field 'Branches' is missing in a Parallel state",
    )


def test_branches_must_be_a_non_empty_array() -> None:
    assert only_problem(_parallel()) == ("$.States.A.Branches", "must be a non-empty array")


def test_a_branch_needs_start_at_and_states() -> None:
    assert problems(_parallel({"Comment": "empty"})) == [
        ("$.States.A.Branches[0]", "required field 'StartAt' is missing"),
        ("$.States.A.Branches[0]", "required field 'States' is missing"),
    ]


def test_a_branch_takes_only_its_own_fields() -> None:
    branch = {"StartAt": "B", "States": {"B": PASS_END}, "TimeoutSeconds": 5}
    assert only_problem(_parallel(branch)) == (
        "$.States.A.Branches[0].TimeoutSeconds",
        "unknown field 'TimeoutSeconds' in a Parallel branch",
    )


def test_a_branch_may_switch_to_jsonata() -> None:
    state = {"Type": "Pass", "Output": "{% $states.input %}", "End": True}
    branch = {"StartAt": "B", "QueryLanguage": "JSONata", "States": {"B": state}}
    assert problems(_parallel(branch)) == []


def test_states_in_a_branch_are_validated_like_any_other() -> None:
    branch = {"StartAt": "B", "States": {"B": {"Type": "Wait", "Seconds": -1, "End": True}}}
    location, _ = only_problem(_parallel(branch))
    assert location == "$.States.A.Branches[0].States.B.Seconds"


def test_a_map_needs_an_item_processor() -> None:
    assert only_problem(one_state({"Type": "Map", "End": True})) == (
        "$.States.A",
        "required field 'ItemProcessor' is missing in a Map state",
    )


def test_the_older_iterator_still_works() -> None:
    iterator = {"StartAt": "Item", "States": {"Item": PASS_END}}
    assert problems(one_state({"Type": "Map", "Iterator": iterator, "End": True})) == []


def test_item_processor_and_iterator_exclude_each_other() -> None:
    iterator = {"StartAt": "Other", "States": {"Other": PASS_END}}
    location, message = only_problem(_map(Iterator=iterator))
    assert location == "$.States.A.Iterator"
    assert "cannot be used together with ItemProcessor" in message


def _distributed(**fields: Any) -> dict[str, Any]:
    processor = {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
        "StartAt": "Item",
        "States": {"Item": PASS_END},
    }
    return one_state({"Type": "Map", "ItemProcessor": processor, "End": True, **fields})


def test_the_distributed_mode_is_accepted_with_its_own_fields() -> None:
    definition = _distributed(
        Label="orders",
        ItemBatcher={"MaxItemsPerBatch": 10, "BatchInput": {"run.$": "$$.Execution.Id"}},
        ToleratedFailurePercentage=5,
        MaxConcurrency=100,
    )
    assert problems(definition) == []


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("ItemReader", {"Resource": "arn:aws:states:::s3:getObject"}, "reads the items from S3"),
        ("ResultWriter", {"Resource": "arn:aws:states:::s3:putObject"}, "writes the results"),
    ],
)
def test_what_needs_s3_is_refused_naming_the_field(field: str, value: Any, says: str) -> None:
    location, message = only_problem(_distributed(**{field: value}))
    assert location == f"$.States.A.{field}"
    assert f"field '{field}' {says}" in message and "no S3 here" in message


@pytest.mark.parametrize(
    ("batcher", "location", "fragment"),
    [
        ({}, "$.States.A.ItemBatcher", "needs MaxItemsPerBatch or MaxInputBytesPerBatch"),
        ({"MaxItemsPerBatch": 0}, "$.States.A.ItemBatcher.MaxItemsPerBatch", "from 1"),
        (
            {"MaxInputBytesPerBatch": 262_145},
            "$.States.A.ItemBatcher.MaxInputBytesPerBatch",
            "262144",
        ),
        (
            {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.n"},
            "$.States.A.ItemBatcher.MaxItemsPerBatchPath",
            "cannot be used together",
        ),
        ({"MaxItemsPerBatch": 2, "Size": 1}, "$.States.A.ItemBatcher.Size", "not allowed"),
    ],
)
def test_an_item_batcher_is_checked(batcher: Any, location: str, fragment: str) -> None:
    found = problems(_distributed(ItemBatcher=batcher))
    assert any(where == location and fragment in message for where, message in found), found


@pytest.mark.parametrize("label", ["x" * 41, "has space", "a/b", 5])
def test_a_label_is_short_and_plain(label: Any) -> None:
    location, _ = only_problem(_distributed(Label=label))
    assert location == "$.States.A.Label"


def test_the_inline_mode_is_accepted_explicitly() -> None:
    processor = {
        "ProcessorConfig": {"Mode": "INLINE"},
        "StartAt": "Item",
        "States": {"Item": PASS_END},
    }
    assert problems(one_state({"Type": "Map", "ItemProcessor": processor, "End": True})) == []


def test_an_unknown_mode_is_refused() -> None:
    processor = {"ProcessorConfig": {"Mode": "FAST"}, "StartAt": "I", "States": {"I": PASS_END}}
    location, _ = only_problem(one_state({"Type": "Map", "ItemProcessor": processor, "End": True}))
    assert location == "$.States.A.ItemProcessor.ProcessorConfig.Mode"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ItemReader", {"Resource": "arn:aws:states:::s3:getObject"}),
        ("ResultWriter", {"Resource": "arn:aws:states:::s3:putObject"}),
        ("ItemBatcher", {"MaxItemsPerBatch": 10}),
        ("Label", "batch"),
    ],
)
def test_distributed_only_fields_are_refused_in_an_inline_map(field: str, value: Any) -> None:
    location, message = only_problem(_map(**{field: value}))
    assert location == f"$.States.A.{field}"
    assert "belongs to a Distributed Map" in message and "DISTRIBUTED" in message


def test_item_selector_and_parameters_exclude_each_other() -> None:
    location, message = only_problem(_map(ItemSelector={"a": 1}, Parameters={"b": 2}))
    assert location == "$.States.A.Parameters"
    assert "cannot be used together with ItemSelector" in message


@pytest.mark.parametrize(
    ("literal", "path"),
    [
        ("MaxConcurrency", "MaxConcurrencyPath"),
        ("ToleratedFailureCount", "ToleratedFailureCountPath"),
        ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ],
)
def test_map_literals_and_paths_exclude_each_other(literal: str, path: str) -> None:
    location, message = only_problem(_map(**{literal: 1, path: "$.n"}))
    assert location == f"$.States.A.{path}"
    assert f"cannot be used together with {literal}" in message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("MaxConcurrency", -1),
        ("MaxConcurrency", 2.5),
        ("ToleratedFailureCount", -1),
        ("ToleratedFailurePercentage", 100.5),
        ("ToleratedFailurePercentage", -0.1),
        ("ToleratedFailurePercentage", "10"),
    ],
)
def test_map_counts_and_percentages_have_ranges(field: str, value: Any) -> None:
    location, _ = only_problem(_map(**{field: value}))
    assert location == f"$.States.A.{field}"


def test_map_limits_within_range_are_valid() -> None:
    definition = _map(MaxConcurrency=0, ToleratedFailureCount=3, ToleratedFailurePercentage=12.5)
    assert problems(definition) == []


def test_items_path_must_be_a_reference_path() -> None:
    location, _ = only_problem(_map(ItemsPath="$.orders[?(@.open)]"))
    assert location == "$.States.A.ItemsPath"


def test_jsonata_maps_take_items_not_items_path() -> None:
    assert problems(_map(QueryLanguage="JSONata", Items="{% $states.input.lines %}")) == []
    assert problems(_map(QueryLanguage="JSONata", Items=[1, 2, 3])) == []
    location, message = only_problem(_map(QueryLanguage="JSONata", ItemsPath="$.lines"))
    assert location == "$.States.A.ItemsPath"
    assert "JSONPath-only" in message


def test_jsonata_items_must_be_an_array_or_expression() -> None:
    location, _ = only_problem(_map(QueryLanguage="JSONata", Items={"a": 1}))
    assert location == "$.States.A.Items"


def test_states_inside_a_map_processor_are_validated() -> None:
    processor = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "Next": "Gone"}}}
    location, message = only_problem(
        one_state({"Type": "Map", "ItemProcessor": processor, "End": True})
    )
    assert location == "$.States.A.ItemProcessor.States.Item.Next"
    assert message == "state 'Gone' does not exist"


def test_a_jsonpath_branch_may_not_sit_in_a_jsonata_machine() -> None:
    branch = {"StartAt": "B", "QueryLanguage": "JSONPath", "States": {"B": PASS_END}}
    definition = _parallel(branch)
    definition["QueryLanguage"] = "JSONata"
    assert only_problem(definition) == (
        "$.States.A.Branches[0].QueryLanguage",
        "a JSONPath branch cannot sit in a JSONata state machine",
    )


def test_execution_type_belongs_to_the_distributed_mode_only() -> None:
    processor = {
        "ProcessorConfig": {"Mode": "INLINE", "ExecutionType": "EXPRESS"},
        "StartAt": "I",
        "States": {"I": PASS_END},
    }
    location, message = only_problem(
        one_state({"Type": "Map", "ItemProcessor": processor, "End": True})
    )
    assert location == "$.States.A.ItemProcessor.ProcessorConfig.ExecutionType"
    assert "only to a Distributed Map" in message


def test_an_item_processor_takes_only_its_own_fields() -> None:
    processor = {"StartAt": "I", "States": {"I": PASS_END}, "QueryLanguage": "JSONata"}
    assert only_problem(one_state({"Type": "Map", "ItemProcessor": processor, "End": True})) == (
        "$.States.A.ItemProcessor.QueryLanguage",
        "unknown field 'QueryLanguage' in an ItemProcessor",
    )


def test_an_item_processor_must_be_an_object() -> None:
    location, message = only_problem(one_state({"Type": "Map", "ItemProcessor": [], "End": True}))
    assert location == "$.States.A.ItemProcessor"
    assert "must be a JSON object" in message
