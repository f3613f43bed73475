"""Pass, and the JSONPath data flow every state shares: InputPath -> Parameters -> Result ->
ResultPath -> OutputPath, the context object `$$` and intrinsic functions in Parameters.

Each expectation is the example or the rule of the Step Functions guide's "Processing input
and output" pages.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.engine.support import details, machine, of_type, run

INPUT = {"comment": "This is a test", "details": "Default example", "who": "Step Functions"}


def pass_output(state: dict[str, Any], execution_input: Any = INPUT) -> Any:
    """The output of a machine made of one Pass state with `state`'s fields."""
    local = run(machine({"P": {"Type": "Pass", "End": True, **state}}), execution_input)
    assert local.execution.status == "SUCCEEDED", local.result()
    return local.execution.output


def pass_failure(
    state: dict[str, Any], execution_input: Any = INPUT
) -> tuple[str | None, str | None]:
    local = run(machine({"P": {"Type": "Pass", "End": True, **state}}), execution_input)
    assert local.execution.status == "FAILED"
    return local.execution.error, local.execution.cause


def test_without_fields_the_input_passes_through() -> None:
    assert pass_output({}) == INPUT


def test_result_replaces_the_input_by_default() -> None:
    assert pass_output({"Result": "Hello, Step Functions!"}) == "Hello, Step Functions!"


def test_result_path_places_the_result_into_the_input() -> None:
    output = pass_output({"Result": "Hello, Step Functions!", "ResultPath": "$.taskresult"})
    assert output == {**INPUT, "taskresult": "Hello, Step Functions!"}


def test_result_path_null_discards_the_result_and_keeps_the_input() -> None:
    assert pass_output({"Result": "Hello, Step Functions!", "ResultPath": None}) == INPUT


def test_result_path_creates_the_objects_on_its_way() -> None:
    output = pass_output({"Result": {"x": 1}, "ResultPath": "$.a.b.c"}, {"k": 1})
    assert output == {"k": 1, "a": {"b": {"c": {"x": 1}}}}


def test_result_path_overwrites_an_existing_field() -> None:
    output = pass_output({"Result": "new", "ResultPath": "$.who"})
    assert output == {**INPUT, "who": "new"}


def test_result_path_into_an_array_element() -> None:
    output = pass_output({"Result": "b", "ResultPath": "$.list[1]"}, {"list": ["a", "x", "c"]})
    assert output == {"list": ["a", "b", "c"]}


def test_result_path_into_a_value_that_is_not_an_object_fails() -> None:
    error, _ = pass_failure({"Result": 1, "ResultPath": "$.who.name"})
    assert error == "States.ResultPathMatchFailure"


def test_result_path_into_an_input_that_is_not_an_object_fails() -> None:
    error, _ = pass_failure({"Result": 1, "ResultPath": "$.x"}, "just text")
    assert error == "States.ResultPathMatchFailure"


def test_result_path_does_not_change_the_state_input_seen_elsewhere() -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.nested.x", "Next": "B"},
            "B": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {"nested": {"y": 2}})
    first_input = details(of_type(local.history, "PassStateEntered")[0])["input"]
    assert first_input == {"nested": {"y": 2}}
    assert local.execution.output == {"nested": {"y": 2, "x": 1}}


def test_input_path_selects_part_of_the_input() -> None:
    assert pass_output({"InputPath": "$.who"}) == "Step Functions"


def test_input_path_null_gives_an_empty_object() -> None:
    assert pass_output({"InputPath": None}) == {}


def test_input_path_that_matches_nothing_is_a_runtime_error() -> None:
    error, cause = pass_failure({"InputPath": "$.missing"})
    assert error == "States.Runtime"
    assert cause is not None and "$.missing" in cause


def test_output_path_selects_part_of_the_output() -> None:
    output = pass_output({"Result": {"a": 1}, "ResultPath": "$.r", "OutputPath": "$.r.a"})
    assert output == 1


def test_output_path_null_gives_an_empty_object() -> None:
    assert pass_output({"OutputPath": None}) == {}


def test_output_path_that_matches_nothing_is_a_runtime_error() -> None:
    error, _ = pass_failure({"OutputPath": "$.missing"})
    assert error == "States.Runtime"


def test_the_fields_apply_in_order_input_path_parameters_result_path_output_path() -> None:
    state = {
        "InputPath": "$.order",
        "Parameters": {"id.$": "$.id", "fixed": "yes"},
        "ResultPath": "$.copy",
        "OutputPath": "$.copy",
    }
    assert pass_output(state, {"order": {"id": 7, "other": 1}, "top": 2}) == {
        "id": 7,
        "fixed": "yes",
    }


def test_result_path_merges_into_the_raw_input_not_the_effective_one() -> None:
    state = {"InputPath": "$.order", "Parameters": {"id.$": "$.id"}, "ResultPath": "$.copy"}
    execution_input = {"order": {"id": 7, "other": 1}, "top": 2}
    assert pass_output(state, execution_input) == {**execution_input, "copy": {"id": 7}}


def test_parameters_mix_fixed_values_and_paths() -> None:
    state = {
        "Parameters": {
            "flagged": True,
            "parts": {"first.$": "$.vals[0]", "last.$": "$.vals[-1:]"},
            "weekday.$": "$.day",
            "list": [1, {"inner.$": "$.day"}],
        }
    }
    output = pass_output(state, {"vals": [0, 10, 20, 30], "day": "Monday"})
    assert output == {
        "flagged": True,
        "parts": {"first": 0, "last": [30]},
        "weekday": "Monday",
        "list": [1, {"inner": "Monday"}],
    }


def test_parameters_with_a_filter_expression() -> None:
    state = {"Parameters": {"big.$": "$.items[?(@.n > 1)].n"}}
    assert pass_output(state, {"items": [{"n": 1}, {"n": 2}, {"n": 3}]}) == {"big": [2, 3]}


def test_parameters_path_that_matches_nothing_fails_the_state() -> None:
    error, cause = pass_failure({"Parameters": {"x.$": "$.missing"}})
    assert error == "States.Runtime"
    assert cause is not None and "$.missing" in cause


def test_the_context_object_in_parameters() -> None:
    state = {
        "Parameters": {
            "id.$": "$$.Execution.Id",
            "name.$": "$$.Execution.Name",
            "input.$": "$$.Execution.Input",
            "start.$": "$$.Execution.StartTime",
            "state.$": "$$.State.Name",
            "entered.$": "$$.State.EnteredTime",
            "machine.$": "$$.StateMachine.Id",
        }
    }
    local = run(machine({"Greet": {"Type": "Pass", "End": True, **state}}), {"k": 1})
    output = local.execution.output
    entered_at = of_type(local.history, "PassStateEntered")[0].timestamp
    assert output["id"] == local.execution.state.execution_arn
    assert output["id"].endswith(":" + output["name"])
    assert output["input"] == {"k": 1}
    assert output["state"] == "Greet"
    assert output["machine"] == local.execution.state.state_machine_arn
    # Step Functions writes context times as ISO 8601 in UTC with milliseconds.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", output["entered"])
    assert output["entered"] == entered_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert output["start"] == local.history[0].timestamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_the_whole_context_object() -> None:
    output = pass_output({"Parameters": {"ctx.$": "$$"}})
    assert set(output["ctx"]) >= {"Execution", "State", "StateMachine"}
    assert output["ctx"]["State"]["Name"] == "P"


def test_state_entered_time_is_the_moment_each_state_was_entered() -> None:
    definition = machine(
        {
            "Wait": {"Type": "Wait", "Seconds": 90, "Next": "Stamp"},
            "Stamp": {"Type": "Pass", "Parameters": {"at.$": "$$.State.EnteredTime"}, "End": True},
        }
    )
    local = run(definition)
    assert local.execution.output == {"at": "2026-01-01T00:01:30.000Z"}
    assert (
        of_type(local.history, "PassStateEntered")[0].timestamp.isoformat()
        == "2026-01-01T00:01:30+00:00"
    )


INTRINSICS: list[tuple[str, dict[str, Any], Any]] = [
    (
        "States.Format('Hello, my name is {}.', $.name)",
        {"name": "Arnav"},
        "Hello, my name is Arnav.",
    ),
    ("States.StringToJson($.someString)", {"someString": '{"number": 20}'}, {"number": 20}),
    (
        "States.JsonToString($.someJson)",
        {"someJson": {"name": "Foo", "year": 2020}},
        '{"name":"Foo","year":2020}',
    ),
    (
        "States.Array('Foo', 2020, $.someJson, null)",
        {"someJson": {"a": 1}},
        ["Foo", 2020, {"a": 1}, None],
    ),
    (
        "States.ArrayPartition($.inputArray, 4)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
        [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
    ),
    (
        "States.ArrayContains($.inputArray, $.lookingFor)",
        {"inputArray": [1, 2, 3], "lookingFor": 2},
        True,
    ),
    (
        "States.ArrayContains($.inputArray, $.lookingFor)",
        {"inputArray": [1, 2, 3], "lookingFor": 5},
        False,
    ),
    ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
    (
        "States.ArrayGetItem($.inputArray, $.index)",
        {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
        6,
    ),
    ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
    ("States.ArrayUnique($.inputArray)", {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}, [1, 2, 3, 4]),
    ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
    ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
    (
        "States.Hash($.Data, $.Algorithm)",
        {"Data": "input data", "Algorithm": "SHA-1"},
        "aaff4a450a104cd177d28d18d74485e8cae074b7",
    ),
    (
        "States.JsonMerge($.json1, $.json2, false)",
        {"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}},
        {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
    ),
    ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
    (
        "States.StringSplit($.inputString, $.splitter)",
        {"inputString": "1,2,3,4,5", "splitter": ","},
        ["1", "2", "3", "4", "5"],
    ),
]


@pytest.mark.parametrize(
    ("call", "execution_input", "expected"), INTRINSICS, ids=[c[0] for c in INTRINSICS]
)
def test_intrinsic_functions_in_parameters(
    call: str, execution_input: dict[str, Any], expected: Any
) -> None:
    assert pass_output({"Parameters": {"value.$": call}}, execution_input) == {"value": expected}


def test_math_random_stays_in_its_range() -> None:
    output = pass_output(
        {"Parameters": {"n.$": "States.MathRandom($.start, $.end)"}}, {"start": 1, "end": 999}
    )
    assert 1 <= output["n"] < 999


def test_uuid_is_a_version_4_uuid_and_reproducible_with_the_seed() -> None:
    definition = machine(
        {"P": {"Type": "Pass", "Parameters": {"id.$": "States.UUID()"}, "End": True}}
    )
    first = run(definition, seed=3).execution.output["id"]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first
    )
    assert run(definition, seed=3).execution.output["id"] == first
    assert run(definition, seed=4).execution.output["id"] != first


def test_a_failing_intrinsic_is_an_intrinsic_failure() -> None:
    error, _ = pass_failure({"Parameters": {"x.$": "States.ArrayGetItem($.a, 5)"}}, {"a": [1]})
    assert error == "States.IntrinsicFailure"


def test_intrinsics_nest() -> None:
    call = "States.Format('{} items', States.ArrayLength(States.StringSplit($.csv, ',')))"
    assert pass_output({"Parameters": {"text.$": call}}, {"csv": "a,b,c"}) == {"text": "3 items"}


def test_result_is_a_fixed_value_even_with_parameters() -> None:
    # Parameters shape the effective input; a Pass state's Result, when present, is its result.
    output = pass_output(
        {"Parameters": {"p": 1}, "Result": {"r": 2}, "ResultPath": "$.out"}, {"k": 0}
    )
    assert output == {"k": 0, "out": {"r": 2}}


def test_without_result_the_effective_input_is_the_result() -> None:
    output = pass_output({"Parameters": {"p.$": "$.k"}, "ResultPath": "$.out"}, {"k": 5})
    assert output == {"k": 5, "out": {"p": 5}}


def test_a_chain_hands_each_output_to_the_next_state() -> None:
    definition = machine(
        {
            "One": {"Type": "Pass", "Result": 1, "ResultPath": "$.one", "Next": "Two"},
            "Two": {"Type": "Pass", "Result": 2, "ResultPath": "$.two", "Next": "Three"},
            "Three": {
                "Type": "Pass",
                "Parameters": {"sum.$": "States.MathAdd($.one, $.two)"},
                "End": True,
            },
        }
    )
    local = run(definition, {})
    assert local.execution.output == {"sum": 3}
    entered_inputs = [details(e)["input"] for e in of_type(local.history, "PassStateEntered")]
    assert entered_inputs == [{}, {"one": 1}, {"one": 1, "two": 2}]
