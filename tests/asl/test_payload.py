"""Payload templates: '.$' fields filled from paths and intrinsics, everything else copied."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.payload import evaluate_template, template_errors


class FakeEntropy:
    def __init__(self, uuid: str = "00000000-0000-4000-8000-000000000000") -> None:
        self._uuid = uuid

    def random(self) -> float:
        return 0.5

    def uuid(self) -> str:
        return self._uuid


def evaluate(
    template: Any,
    data: Any,
    *,
    context: Any = None,
    variables: dict[str, Any] | None = None,
    failure_error: str = errors.RUNTIME,
) -> Any:
    return evaluate_template(
        template,
        data=data,
        context=context if context is not None else {},
        variables=variables or {},
        entropy=FakeEntropy(),
        failure_error=failure_error,
    )


class TestEvaluation:
    def test_the_specifications_example(self) -> None:
        template = {"flagged": True, "parts": {"first.$": "$.vals[0]", "last3.$": "$.vals[3:]"}}
        data = {"flagged": 7, "vals": [0, 10, 20, 30, 40, 50]}
        assert evaluate(template, data) == {
            "flagged": True,
            "parts": {"first": 0, "last3": [30, 40, 50]},
        }

    def test_paths_read_the_input_the_context_and_the_variables(self) -> None:
        template = {
            "Payload.$": "$",
            "Token.$": "$$.Task.Token",
            "Item.$": "$$.Map.Item.Value",
            "Limit.$": "$limit",
            "First.$": "$order.items[0]",
        }
        data = {"order": "o-1"}
        context = {"Task": {"Token": "t-1"}, "Map": {"Item": {"Value": {"sku": "a"}}}}
        variables = {"limit": 3, "order": {"items": ["first"]}}
        assert evaluate(template, data, context=context, variables=variables) == {
            "Payload": {"order": "o-1"},
            "Token": "t-1",
            "Item": {"sku": "a"},
            "Limit": 3,
            "First": "first",
        }

    def test_intrinsic_functions_are_evaluated(self) -> None:
        template = {
            "Message.$": "States.Format('Order {} of {}', $.id, $$.Execution.Name)",
            "Id.$": "States.UUID()",
            "Parts.$": "States.StringSplit($.id, '-')",
        }
        context = {"Execution": {"Name": "run-1"}}
        assert evaluate(template, {"id": "o-7"}, context=context) == {
            "Message": "Order o-7 of run-1",
            "Id": "00000000-0000-4000-8000-000000000000",
            "Parts": ["o", "7"],
        }

    def test_objects_inside_arrays_are_templates_too(self) -> None:
        template = {"rows": [{"n.$": "$.a"}, [{"m.$": "$.b"}], "literal.$", 3]}
        assert evaluate(template, {"a": 1, "b": 2}) == {
            "rows": [{"n": 1}, [{"m": 2}], "literal.$", 3]
        }

    def test_values_that_are_not_templates_are_copied_as_they_are(self) -> None:
        template: dict[str, Any] = {"s": "$.x", "n": None, "nested": {"list": [1, {"x": "y"}]}}
        output = evaluate(template, {})
        assert output == template
        output["nested"]["list"].append(2)
        assert template["nested"]["list"] == [1, {"x": "y"}]

    @pytest.mark.parametrize("template", [None, 1, "text", [1, "$.a"], {}])
    def test_any_json_value_is_a_template(self, template: Any) -> None:
        assert evaluate(template, {"a": 1}) == template


class TestFailures:
    def test_a_path_that_matches_nothing_fails_with_the_callers_error(self) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate(
                {"param.$": "$.nope.deep"},
                {"other": 1},
                failure_error=errors.PARAMETER_PATH_FAILURE,
            )
        assert caught.value.error == errors.PARAMETER_PATH_FAILURE
        assert caught.value.cause == (
            "The JSONPath '$.nope.deep' specified for the field 'param.$' "
            "could not be found in the input '{\"other\":1}'"
        )

    def test_by_default_a_missing_path_is_a_runtime_error(self) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate({"a": [{"b.$": "$.missing"}]}, {})
        assert caught.value.error == errors.RUNTIME

    def test_missing_context_paths_and_variables_say_where_they_looked(self) -> None:
        with pytest.raises(StatesError, match=r"in the context object '\{\}'"):
            evaluate({"t.$": "$$.Task.Token"}, {})
        with pytest.raises(StatesError, match="there is no variable named 'ghost'"):
            evaluate({"v.$": "$ghost"}, {})

    @pytest.mark.parametrize("value", [1, None, True, ["$.a"], {"x": "$.a"}])
    def test_a_dollar_field_needs_a_string(self, value: Any) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate({"f.$": value}, {"a": 1})
        assert caught.value.error == errors.RUNTIME
        assert "The value for the field 'f.$' must be a string" in caught.value.cause

    def test_a_dollar_field_needs_a_path_or_an_intrinsic(self) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate({"f.$": "hello"}, {})
        assert caught.value.error == errors.RUNTIME
        assert "must be a valid JSONPath or a valid intrinsic function call" in caught.value.cause

    def test_a_malformed_intrinsic_is_an_intrinsic_failure_saying_what_is_wrong(self) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate({"a.$": "States.Array"}, {})
        assert caught.value.error == errors.INTRINSIC_FAILURE
        assert "expected '(' after States.Array" in caught.value.cause

    def test_a_failing_intrinsic_is_an_intrinsic_failure(self) -> None:
        with pytest.raises(StatesError) as caught:
            evaluate(
                {"n.$": "States.MathAdd($.a, 1)"},
                {"a": "x"},
                failure_error=errors.PARAMETER_PATH_FAILURE,
            )
        assert caught.value.error == errors.INTRINSIC_FAILURE
        assert "Invalid arguments in States.MathAdd" in caught.value.cause


class TestStaticCheck:
    def test_a_sound_template_has_no_errors(self) -> None:
        template = {
            "a.$": "$.x",
            "b.$": "$$.Execution.Id",
            "c.$": "$var.items[0]",
            "d.$": "States.Format('{}', $.x)",
            "e": {"f": [{"g.$": "$..h"}]},
            "plain": "States.Nope()",
        }
        assert template_errors(template) == []

    def test_every_broken_field_is_reported_with_its_location(self) -> None:
        template = {
            "a.$": 1,
            "b.$": "nope",
            "c": {"d.$": "States.Nope()"},
            "e": [{"f.$": "States.Format('{}')"}],
            "g": 1,
            "g.$": "$",
            "x y.$": "$[",
        }
        assert template_errors(template) == [
            ("$['a.$']", f"the value of 'a.$' {NEEDS_STRING}, got number"),
            ("$['b.$']", f"'nope' {NOT_A_PATH}: a path must start with '$' at position 0"),
            (
                "$.c['d.$']",
                "'States.Nope()' is not a valid intrinsic function call: "
                "unknown intrinsic function States.Nope (at position 0)",
            ),
            (
                "$.e[0]['f.$']",
                "\"States.Format('{}')\" is not a valid intrinsic function call: "
                "the States.Format template has 1 '{}' but 0 values follow it (at position 0)",
            ),
            ("$['g.$']", "'g.$' and 'g' both set the field 'g'"),
            (
                "$['x y.$']",
                f"'$[' {NOT_A_PATH}: expected a quoted name, an index, a slice, '*' "
                "or a filter inside '[ ]' at position 2",
            ),
        ]

    def test_a_value_starting_like_an_intrinsic_is_judged_as_one(self) -> None:
        [(location, message)] = template_errors({"a.$": "States.Format('x'"})
        assert location == "$['a.$']"
        assert "is not a valid intrinsic function call: expected ',' or ')'" in message

    def test_locations_quote_awkward_keys(self) -> None:
        assert template_errors({"it's": {"k.$": 5}}) == [
            ("$['it\\'s']['k.$']", f"the value of 'k.$' {NEEDS_STRING}, got number")
        ]


NEEDS_STRING = "must be a string holding a JSONPath or an intrinsic function"
NOT_A_PATH = "is not a valid JSONPath or intrinsic function call"


JSON_LITERALS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=5).filter(lambda key: not key.endswith(".$")), inner, max_size=3
        )
    ),
    max_leaves=12,
)


class TestProperties:
    @given(template=JSON_LITERALS, data=JSON_LITERALS)
    def test_a_template_without_dollar_fields_is_copied_unchanged(
        self, template: Any, data: Any
    ) -> None:
        original = copy.deepcopy(template)
        assert evaluate(template, data) == original
        assert template_errors(template) == []

    @given(
        data=st.dictionaries(st.text(min_size=1, max_size=5), JSON_LITERALS, min_size=1, max_size=4)
    )
    def test_a_field_per_input_key_reproduces_the_input(self, data: dict[str, Any]) -> None:
        template = {
            f"{key}.$": "$['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']" for key in data
        }
        assert evaluate(template, data) == data
