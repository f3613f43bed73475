"""JSONata in Step Functions: expressions over $states and variables, AWS's added functions,
Choice conditions, templates, Assign, and the States.QueryEvaluationError causes AWS writes."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepstream.asl import jsonata_expr
from stepstream.asl.errors import QUERY_EVALUATION_ERROR, StatesError
from stepstream.asl.jsonata_expr import (
    evaluate_assign,
    evaluate_condition,
    evaluate_expression,
    evaluate_jsonata_template,
    expression_error,
    is_expression,
)
from stepstream.asl.ports import VirtualClock


class FakeEntropy:
    """Hands out the draws it was given, in order, and counts what was drawn."""

    def __init__(self, randoms: list[float], uuids: list[str]) -> None:
        self.randoms = list(randoms)
        self.uuids = list(uuids)

    def random(self) -> float:
        return self.randoms.pop(0)

    def uuid(self) -> str:
        return self.uuids.pop(0)


ORDER: dict[str, Any] = {
    "id": "o-1",
    "lines": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 3}],
    "note": None,
}


def run(text: str, *, variables: Mapping[str, Any] | None = None, **states: Any) -> Any:
    return evaluate_expression(
        text, states=states or {"input": ORDER}, variables=variables or {}, field="Output"
    )


def failure(text: str, **kwargs: Any) -> StatesError:
    with pytest.raises(StatesError) as caught:
        run(text, **kwargs)
    assert caught.value.error == QUERY_EVALUATION_ERROR
    return caught.value


# --- what counts as an expression ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{% $states.input %}", True),
        ("{%1%}", True),
        ("{% %}", True),
        (" {% 1 %}", False),
        ("{% 1 %} ", False),
        ("{% 1", False),
        ("$.input", False),
        ("{%}", False),
        (42, False),
        (None, False),
    ],
)
def test_only_strings_wrapped_exactly_in_percent_braces_are_expressions(
    value: Any, expected: bool
) -> None:
    assert is_expression(value) is expected


# --- $states and variables ----------------------------------------------------------------


def test_an_expression_reads_the_state_input() -> None:
    assert run("{% $sum($states.input.lines.qty) %}") == 5


def test_an_expression_reads_result_error_output_and_context() -> None:
    states: dict[str, Any] = {
        "input": {"a": 1},
        "result": {"b": 2},
        "errorOutput": {"Error": "Boom", "Cause": "why"},
        "context": {"Execution": {"Id": "exec-7"}},
    }
    text = "{% [$states.result.b, $states.errorOutput.Error, $states.context.Execution.Id] %}"
    assert run(text, **states) == [2, "Boom", "exec-7"]


def test_workflow_variables_are_bound_by_name() -> None:
    assert run("{% $total * $rate %}", variables={"total": 200, "rate": 0.5}) == 100


def test_a_variable_holding_null_reads_as_null_not_as_missing() -> None:
    assert run("{% $type($maybe) %}", variables={"maybe": None}) == "null"
    assert run("{% $maybe %}", variables={"maybe": None}) is None


def test_a_null_field_is_a_value_while_a_missing_field_is_undefined() -> None:
    assert run("{% $states.input.note %}") is None
    cause = failure("{% $states.input.nothing %}").cause
    assert cause == (
        "The JSONata expression '$states.input.nothing' specified for the field 'Output' "
        "returned nothing (undefined)."
    )


def test_the_states_variable_wins_over_a_workflow_variable_of_the_same_name() -> None:
    assert run("{% $states.input.id %}", variables={"states": {"input": {"id": "x"}}}) == "o-1"


def test_states_accepts_only_the_four_reserved_fields() -> None:
    with pytest.raises(ValueError, match="output"):
        evaluate_expression("{% 1 %}", states={"output": {}}, variables={})


def test_a_string_that_is_not_an_expression_is_refused() -> None:
    with pytest.raises(ValueError, match="not a JSONata expression"):
        evaluate_expression("$states.input", states={}, variables={})


def test_numbers_come_back_as_json_numbers() -> None:
    assert run("{% 6 / 2 %}") == 3
    assert isinstance(run("{% 6 / 2 %}"), int)
    assert run("{% 7 / 2 %}") == 3.5


def test_sequences_come_back_as_plain_lists() -> None:
    value = run("{% $states.input.lines.sku %}")
    assert type(value) is list
    assert value == ["a", "b"]


def test_the_result_does_not_share_structure_with_the_input() -> None:
    value = run("{% $states.input.lines %}")
    value[0]["qty"] = 99
    assert ORDER["lines"][0]["qty"] == 2


def test_a_cached_expression_sees_fresh_data_each_time() -> None:
    text = "{% $states.input.n + 1 %}"
    assert run(text, input={"n": 1}) == 2
    assert run(text, input={"n": 41}) == 42


# --- evaluation failures ------------------------------------------------------------------


def test_a_type_error_names_the_expression_field_and_jsonata_code() -> None:
    cause = failure("{% $states.input.id + 1 %}").cause
    assert cause.startswith(
        "The JSONata expression '$states.input.id + 1' specified for the field 'Output' "
        "threw an error during evaluation. T2001:"
    )


def test_division_by_zero_is_a_number_out_of_range() -> None:
    assert "D1001" in failure("{% 1 / 0 %}").cause


def test_eval_is_not_available_as_on_aws() -> None:
    assert "T1006" in failure("{% $eval('1 + 1') %}").cause


def test_a_function_is_not_a_json_value() -> None:
    assert "function" in failure("{% function($x) { $x } %}").cause


def test_a_cause_without_a_field_names_only_the_expression() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_expression("{% $nothing %}", states={}, variables={})
    assert caught.value.cause == "The JSONata expression '$nothing' returned nothing (undefined)."


def test_a_runaway_expression_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonata_expr, "EVALUATION_SECONDS", 0.05)
    cause = failure("{% ($loop := function($n) { $loop($n + 1) }; $loop(0)) %}").cause
    assert "D1012" in cause


def test_a_syntax_error_at_run_time_is_a_query_evaluation_error() -> None:
    assert "S0202" in failure("{% [1, 2) %}").cause


# --- templates ----------------------------------------------------------------------------


def test_a_template_evaluates_every_expression_inside_it_and_keeps_the_rest() -> None:
    template = {
        "order": "{% $states.input.id %}",
        "skus": ["{% $states.input.lines[0].sku %}", "literal", 7],
        "nested": {"count": "{% $count($states.input.lines) %}", "flag": True},
        "{% not a key %}": "$.not.a.path",
    }
    assert evaluate_jsonata_template(template, states={"input": ORDER}, variables={}) == {
        "order": "o-1",
        "skus": ["a", "literal", 7],
        "nested": {"count": 2, "flag": True},
        "{% not a key %}": "$.not.a.path",
    }


def test_a_whole_field_may_be_one_expression() -> None:
    value = evaluate_jsonata_template(
        "{% $states.input.lines[qty > 2] %}", states={"input": ORDER}, variables={}
    )
    assert value == {"sku": "b", "qty": 3}


def test_an_undefined_value_deep_in_a_template_names_its_field_path() -> None:
    template = {"a": {"b": [1, "{% $states.input.gone %}"]}}
    with pytest.raises(StatesError) as caught:
        evaluate_jsonata_template(template, states={"input": {}}, variables={}, field="Output")
    assert caught.value.cause == (
        "The JSONata expression '$states.input.gone' specified for the field 'Output/a/b[1]' "
        "returned nothing (undefined)."
    )


def test_an_object_built_inside_an_expression_drops_undefined_members() -> None:
    assert run("{% {'kept': 1, 'dropped': $states.input.gone} %}") == {"kept": 1}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=10,
)


@given(json_values)
def test_a_template_without_expressions_is_returned_unchanged(value: Any) -> None:
    assert evaluate_jsonata_template(value, states={}, variables={}) == value


# --- Choice conditions --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("{% $states.input.total > 100 %}", True),
        ("{% $states.input.total > 500 %}", False),
        ("{% $states.input.kind = 'gift' and $limit >= 250 %}", True),
        (True, True),
        (False, False),
    ],
)
def test_a_condition_decides_a_choice(condition: Any, expected: bool) -> None:
    verdict = evaluate_condition(
        condition, states={"input": {"total": 250, "kind": "gift"}}, variables={"limit": 250}
    )
    assert verdict is expected


def test_a_condition_must_be_a_boolean() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_condition(
            "{% $states.input.total %}", states={"input": {"total": 1}}, variables={}
        )
    assert caught.value.error == QUERY_EVALUATION_ERROR
    assert caught.value.cause == (
        "The JSONata expression '$states.input.total' specified for the field 'Condition' "
        "returned an unexpected result type. Expected 'boolean', but was 'number'."
    )


def test_an_undefined_condition_fails_instead_of_being_false() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_condition(
            "{% $states.input.gone %}",
            states={"input": {}},
            variables={},
            field="Choices[1]/Condition",
        )
    assert "'Choices[1]/Condition' returned nothing (undefined)." in caught.value.cause


# --- syntax check for the validator -------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["{% $states.input.a %}", "$states.input.a", "{% $x.items[$ > 3] %}"]
)
def test_valid_expressions_have_no_error(text: str) -> None:
    assert expression_error(text) is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{% a[1,2) %}", "S0202"),
        ("{%  %}", "empty"),
        ("{% $$.Execution.Id %}", "Reference to '$$' is not supported"),
        ("{% $states.input[$$ = 1] %}", "Reference to '$$' is not supported"),
    ],
)
def test_invalid_expressions_are_explained(text: str, fragment: str) -> None:
    error = expression_error(text)
    assert error is not None
    assert fragment in error


def test_a_dollar_pair_inside_a_string_literal_is_not_a_reference() -> None:
    assert expression_error("{% '$$' & $states.input.a %}") is None


# --- the functions Step Functions adds ----------------------------------------------------


def test_partition_splits_into_chunks_with_a_shorter_last_one() -> None:
    assert run("{% $partition([1, 2, 3, 4, 5], 2) %}") == [[1, 2], [3, 4], [5]]


def test_partition_truncates_a_fractional_chunk_size() -> None:
    assert run("{% $partition([1, 2, 3], 2.9) %}") == [[1, 2], [3]]


@pytest.mark.parametrize("text", ["{% $partition([1, 2], 0) %}", "{% $partition([], 2) %}"])
def test_partition_of_nothing_is_undefined(text: str) -> None:
    assert "returned nothing (undefined)" in failure(text).cause


@given(st.lists(st.integers(), min_size=1, max_size=20), st.integers(min_value=1, max_value=7))
def test_partition_keeps_every_item_in_order(items: list[int], size: int) -> None:
    chunks = evaluate_expression(
        "{% $partition($items, $size) %}", states={}, variables={"items": items, "size": size}
    )
    assert [item for chunk in chunks for item in chunk] == items
    assert all(len(chunk) == size for chunk in chunks[:-1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% $range(0, 10, 2) %}", [0, 2, 4, 6, 8, 10]),
        ("{% $range(1, 8, 2) %}", [1, 3, 5, 7]),
        ("{% $range(9, 1, -3) %}", [9, 6, 3]),
        ("{% $range(-1.7, 2, 1) %}", [-1, 0, 1, 2]),
        ("{% $range(3, 3, 1) %}", 3),
    ],
)
def test_range_counts_from_start_to_end_inclusive(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    "text", ["{% $range(1, 3) %}", "{% $range(3, 1, 1) %}", "{% $range(1, 3, -1) %}"]
)
def test_range_without_a_usable_step_is_undefined(text: str) -> None:
    assert "returned nothing (undefined)" in failure(text).cause


def test_range_refuses_a_non_number() -> None:
    cause = failure("{% $range('0', 4, 1) %}").cause
    assert cause.endswith(
        'threw an error during evaluation. T0410: Argument 1 of function "range" '
        "does not match function signature"
    )


def test_range_refuses_more_values_than_aws_allows() -> None:
    assert "memory limit" in failure("{% $range(1, 1000000, 1) %}").cause


@given(
    st.integers(min_value=-50, max_value=50),
    st.integers(min_value=-50, max_value=50),
    st.integers(min_value=1, max_value=9),
)
def test_range_agrees_with_python_range(start: int, end: int, step: int) -> None:
    step = step if end >= start else -step
    expected = list(range(start, end + (1 if step > 0 else -1), step))
    value = evaluate_expression(
        "{% [$range($a, $b, $c)] %}", states={}, variables={"a": start, "b": end, "c": step}
    )
    assert value == expected


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"])
def test_hash_gives_the_hex_digest(algorithm: str) -> None:
    python_name = algorithm.replace("-", "").lower()
    text = f"{{% $hash($states.input.id, '{algorithm}') %}}"
    assert run(text) == hashlib.new(python_name, b"o-1").hexdigest()


def test_hash_matches_the_published_sha256_of_abc() -> None:
    assert run("{% $hash('abc', 'SHA-256') %}") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_hash_algorithm_names_are_case_sensitive() -> None:
    assert "SHA-256" in failure("{% $hash('abc', 'sha-256') %}").cause


def test_hash_without_an_algorithm_is_undefined() -> None:
    assert "returned nothing (undefined)" in failure("{% $hash('abc') %}").cause


def test_random_without_a_seed_draws_from_the_entropy_port() -> None:
    entropy = FakeEntropy(randoms=[0.25, 0.75], uuids=[])
    text = "{% [$random(), $random()] %}"
    assert evaluate_expression(text, states={}, variables={}, entropy=entropy) == [0.25, 0.75]


def test_random_with_a_seed_is_reproducible_and_does_not_draw() -> None:
    entropy = FakeEntropy(randoms=[], uuids=[])
    first = evaluate_expression("{% $random(42) %}", states={}, variables={}, entropy=entropy)
    again = evaluate_expression("{% $random(42) %}", states={}, variables={}, entropy=entropy)
    other = evaluate_expression("{% $random(43) %}", states={}, variables={}, entropy=entropy)
    assert first == again
    assert first != other
    assert 0 <= first < 1


def test_uuid_draws_from_the_entropy_port() -> None:
    entropy = FakeEntropy(randoms=[], uuids=["11111111-2222-4333-8444-555555555555"])
    value = evaluate_expression("{% $uuid() %}", states={}, variables={}, entropy=entropy)
    assert value == "11111111-2222-4333-8444-555555555555"


def test_without_an_entropy_port_uuids_still_are_version_4_and_differ() -> None:
    first, second = run("{% [$uuid(), $uuid()] %}")
    assert uuid.UUID(first).version == 4
    assert first != second


def test_parse_reads_json_text() -> None:
    text = "{% $parse($states.input.body).items[1] %}"
    assert run(text, input={"body": json.dumps({"items": [1, None, 3]})}) is None
    assert run("{% $parse('[1, {\"a\": true}]') %}") == [1, {"a": True}]
    assert run("{% $parse('null') %}") is None


def test_parse_refuses_text_that_is_not_json() -> None:
    assert "not JSON" in failure("{% $parse('{oops') %}").cause


def test_now_and_millis_read_the_clock_port() -> None:
    clock = VirtualClock(datetime(2026, 3, 14, 1, 59, 26, 535000, tzinfo=UTC))
    value = evaluate_expression("{% [$now(), $millis()] %}", states={}, variables={}, clock=clock)
    assert value == ["2026-03-14T01:59:26.535Z", int(clock.now().timestamp() * 1000)]


def test_standard_jsonata_functions_remain_available() -> None:
    assert run("{% $uppercase($join($states.input.lines.sku, '-')) %}") == "A-B"
    assert re.fullmatch(r"\d+", run("{% $string($count($states.input.lines)) %}"))


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_arithmetic_agrees_with_python(a: int, b: int) -> None:
    value = evaluate_expression(
        "{% [$a + $b, $a - $b, $a * $b, $a < $b] %}", states={}, variables={"a": a, "b": b}
    )
    assert value == [a + b, a - b, a * b, a < b]


# --- Assign ---------------------------------------------------------------------------------


def test_jsonata_assignments_are_simultaneous() -> None:
    assigned = evaluate_assign(
        {"a": "{% $b %}", "b": "{% $a %}", "sum": "{% $a + $b %}"},
        mode="JSONata",
        variables={"a": 1, "b": 2},
        states={"input": {}},
    )
    assert assigned == {"a": 2, "b": 1, "sum": 3}


def test_jsonata_assign_reads_the_result_and_keeps_literals() -> None:
    assigned = evaluate_assign(
        {"charge": "{% $states.result.id %}", "attempts": 0, "meta": {"by": "{% $who %}"}},
        mode="JSONata",
        variables={"who": "ops"},
        states={"input": {}, "result": {"id": "ch_1"}},
    )
    assert assigned == {"charge": "ch_1", "attempts": 0, "meta": {"by": "ops"}}


def test_an_undefined_assignment_names_the_variable() -> None:
    with pytest.raises(StatesError) as caught:
        evaluate_assign(
            {"x": "{% $states.input.gone %}"}, mode="JSONata", variables={}, states={"input": {}}
        )
    assert "'Assign/x' returned nothing (undefined)." in caught.value.cause


def test_jsonpath_assignments_read_paths_and_are_simultaneous() -> None:
    assigned = evaluate_assign(
        {
            "a.$": "$b",
            "b.$": "$a",
            "orderId.$": "$.id",
            "execution.$": "$$.Execution.Id",
            "fixed": {"kind": "gift"},
        },
        mode="JSONPath",
        variables={"a": 1, "b": 2},
        data={"id": "o-1"},
        context={"Execution": {"Id": "exec-7"}},
    )
    assert assigned == {
        "a": 2,
        "b": 1,
        "orderId": "o-1",
        "execution": "exec-7",
        "fixed": {"kind": "gift"},
    }


def test_assign_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="Assign must be a JSON object"):
        evaluate_assign(["x"], mode="JSONata", variables={})  # type: ignore[arg-type]


def test_assign_rejects_an_unknown_query_language() -> None:
    with pytest.raises(ValueError, match="JSONPath"):
        evaluate_assign({}, mode="XPath", variables={})  # type: ignore[arg-type]
