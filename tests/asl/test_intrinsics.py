"""Intrinsic functions: parsing invocations, and every States.* function's results and failures."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.intrinsics import (
    IntrinsicCall,
    IntrinsicSyntaxError,
    LiteralArgument,
    PathArgument,
    evaluate_intrinsic,
    is_intrinsic,
    parse_intrinsic,
)
from stepstream.asl.java_random import JavaRandom


class FakeEntropy:
    """Hands out the draws and UUIDs it was given, and counts what was asked of it."""

    def __init__(self, draws: tuple[float, ...] = (), uuids: tuple[str, ...] = ()) -> None:
        self._draws = list(draws)
        self._uuids = list(uuids)
        self.asked = 0

    def random(self) -> float:
        self.asked += 1
        return self._draws.pop(0)

    def uuid(self) -> str:
        self.asked += 1
        return self._uuids.pop(0)


def run(
    expr: str,
    data: Any = None,
    *,
    context: Any = None,
    variables: dict[str, Any] | None = None,
    entropy: FakeEntropy | None = None,
) -> Any:
    return evaluate_intrinsic(
        expr,
        data=data,
        context=context if context is not None else {},
        variables=variables or {},
        entropy=entropy or FakeEntropy(),
    )


def failure(expr: str, data: Any = None, **kwargs: Any) -> str:
    """The cause of the States.IntrinsicFailure that ``expr`` raises."""
    with pytest.raises(StatesError) as caught:
        run(expr, data, **kwargs)
    assert caught.value.error == errors.INTRINSIC_FAILURE
    return caught.value.cause


class TestDocumentedExamples:
    """The examples of the Step Functions developer guide, each with its documented input."""

    @pytest.mark.parametrize(
        ("expr", "data", "expected"),
        [
            (
                "States.Format('Hello, my name is {}.', $.name)",
                {"name": "Arnav"},
                "Hello, my name is Arnav.",
            ),
            (
                "States.Format($.template, $.name)",
                {"name": "Arnav", "template": "Hello, my name is {}."},
                "Hello, my name is Arnav.",
            ),
            (
                "States.StringToJson($.escapedJsonString)",
                {"escapedJsonString": '{"foo": "bar"}'},
                {"foo": "bar"},
            ),
            (
                "States.JsonToString($.unescapedJson)",
                {"unescapedJson": {"foo": "bar"}},
                '{"foo":"bar"}',
            ),
            ("States.Array($.Id)", {"Id": 123456}, [123456]),
            (
                "States.ArrayPartition($.inputArray,4)",
                {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
                [[1, 2, 3, 4], [5, 6, 7, 8], [9]],
            ),
            (
                "States.ArrayContains($.inputArray, $.lookingFor)",
                {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5},
                True,
            ),
            ("States.ArrayRange(1, 9, 2)", {}, [1, 3, 5, 7, 9]),
            (
                "States.ArrayGetItem($.inputArray, $.index)",
                {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5},
                6,
            ),
            ("States.ArrayLength($.inputArray)", {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}, 9),
            (
                "States.ArrayUnique($.inputArray)",
                {"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]},
                [1, 2, 3, 4],
            ),
            ("States.Base64Encode($.input)", {"input": "Data to encode"}, "RGF0YSB0byBlbmNvZGU="),
            ("States.Base64Decode($.base64)", {"base64": "RGF0YSB0byBlbmNvZGU="}, "Data to encode"),
            (
                "States.Hash($.Data, $.Algorithm)",
                {"Data": "input data", "Algorithm": "SHA-1"},
                "aaff4a450a104cd177d28d18d74485e8cae074b7",
            ),
            (
                "States.JsonMerge($.json1, $.json2, false)",
                {
                    "json1": {"a": {"a1": 1, "a2": 2}, "b": 2},
                    "json2": {"a": {"a3": 1, "a4": 2}, "c": 3},
                },
                {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3},
            ),
            ("States.MathAdd($.value1, $.step)", {"value1": 111, "step": -1}, 110),
            (
                "States.StringSplit($.inputString, $.splitter)",
                {"inputString": "1,2,3,4,5", "splitter": ","},
                ["1", "2", "3", "4", "5"],
            ),
            (
                "States.StringSplit($.inputString, $.splitter)",
                {"inputString": "This.is+a,test=string", "splitter": ".+,="},
                ["This", "is", "a", "test", "string"],
            ),
        ],
    )
    def test_example(self, expr: str, data: Any, expected: Any) -> None:
        assert run(expr, data) == expected

    def test_nine_nested_calls(self) -> None:
        # The guide's example, with the third value its template asks for.
        arn_parts = "States.StringSplit($.ImageRecipe.Arn, '/')"
        split = f"States.StringSplit(States.ArrayGetItem({arn_parts}, 2), '.')"
        expr = (
            f"States.Format('{{}}.{{}}.{{}}', States.ArrayGetItem({split}, 0), "
            f"States.ArrayGetItem({split}, 1), States.ArrayGetItem({split}, 2))"
        )
        arn = "arn:aws:imagebuilder:us-east-1:123456789012:image-recipe/my-recipe/1.2.3"
        assert run(expr, {"ImageRecipe": {"Arn": arn}}) == "1.2.3"

    def test_math_random_returns_an_integer_between_start_and_end(self) -> None:
        value = run(
            "States.MathRandom($.start, $.end)",
            {"start": 1, "end": 999},
            entropy=FakeEntropy((0.456,)),
        )
        assert value == 1 + int(0.456 * 998)

    def test_uuid_comes_from_the_entropy_port(self) -> None:
        entropy = FakeEntropy(uuids=("ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8",))
        assert run("States.UUID()", entropy=entropy) == "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"


class TestArguments:
    def test_string_escapes(self) -> None:
        assert run(r"States.Array('it\'s', 'a\{b\}', 'back\\slash')") == [
            "it's",
            "a{b}",
            "back\\slash",
        ]

    def test_escaped_braces_in_a_format_template_are_not_placeholders(self) -> None:
        expr = r"States.Format('Name: \'{}\', set \{\} and \\ {}', $.name, 'x')"
        assert run(expr, {"name": "Gabriel"}) == "Name: 'Gabriel', set {} and \\ x"

    def test_literals(self) -> None:
        assert run("States.Array(1, -2.5, 1e3, true, false, null, '')") == [
            1,
            -2.5,
            1000.0,
            True,
            False,
            None,
            "",
        ]

    def test_paths_read_the_data_the_context_and_the_variables(self) -> None:
        expr = (
            "States.Array($.a, $$.Execution.Id, $counter, $order.items[0], $['b c'], $.list[*].n)"
        )
        data = {"a": 1, "b c": 2, "list": [{"n": 1}, {"n": 2}]}
        context = {"Execution": {"Id": "exec-1"}}
        variables = {"counter": 7, "order": {"items": ["first"]}}
        assert run(expr, data, context=context, variables=variables) == [
            1,
            "exec-1",
            7,
            "first",
            2,
            [1, 2],
        ]

    def test_a_path_with_commas_and_brackets_inside_is_one_argument(self) -> None:
        assert run(
            "States.Array($['a,b'], $.x[?(@.v == 'p, q')].v)", {"a,b": 1, "x": [{"v": "p, q"}]}
        ) == [1, ["p, q"]]

    def test_a_missing_path_names_the_path_and_the_input(self) -> None:
        cause = failure("States.Format('{}', $.nope)", {"other": 1})
        assert cause == (
            "The function 'States.Format('{}', $.nope)' had the following error: "
            "The JsonPath argument for the field '$.nope' could not be found "
            "in the input '{\"other\":1}'"
        )

    def test_a_missing_context_path_or_variable_says_where_it_looked(self) -> None:
        assert "in the context object '{}'" in failure("States.Array($$.Task.Token)", {})
        assert "there is no variable named 'ghost'" in failure("States.Array($ghost)", {})


class TestFormat:
    @pytest.mark.parametrize(
        ("value", "written"),
        [
            ("text", "text"),
            (None, "null"),
            (True, "true"),
            (-1, "-1"),
            (3.5, "3.5"),
            ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),
            (["a", {"b": None}], "[a, {b=null}]"),
        ],
    )
    def test_values_are_written_as_step_functions_writes_them(
        self, value: Any, written: str
    ) -> None:
        assert run("States.Format('<{}>', $.v)", {"v": value}) == f"<{written}>"

    def test_a_template_from_the_input_must_match_its_values(self) -> None:
        cause = failure("States.Format($.t, $.a)", {"t": "{} {}", "a": 1})
        assert "Invalid arguments in States.Format: number of arguments do not match" in cause

    def test_a_template_from_the_input_must_be_a_string(self) -> None:
        assert "the first argument must be a string, got number 123" in failure(
            "States.Format($.t)", {"t": 123}
        )

    @pytest.mark.parametrize("template", ["Hello {", "}", "Hello {{}}"])
    def test_stray_braces_in_a_template_from_the_input_fail(self, template: str) -> None:
        assert "Invalid arguments in States.Format" in failure(
            "States.Format($.t, 'x')", {"t": template}
        )


class TestArrays:
    def test_array_partition_truncates_the_chunk_size(self) -> None:
        assert run("States.ArrayPartition($.a, 2.6)", {"a": [1, 2, 3, 4, 5]}) == [
            [1, 2],
            [3, 4],
            [5],
        ]
        assert run("States.ArrayPartition($.a, 3)", {"a": []}) == []

    @pytest.mark.parametrize("size", ["0", "0.6", "-1", "'2'", "null"])
    def test_array_partition_needs_a_positive_chunk_size(self, size: str) -> None:
        assert "Invalid arguments in States.ArrayPartition" in failure(
            f"States.ArrayPartition($.a, {size})", {"a": [1]}
        )

    def test_array_contains_compares_values_by_their_text(self) -> None:
        assert run("States.ArrayContains($.a, $.v)", {"a": [{"a": 1}, [0, 1]], "v": [0, 1]}) is True
        assert run("States.ArrayContains($.a, true)", {"a": ["true"]}) is True
        assert run("States.ArrayContains($.a, false)", {"a": [0, 1]}) is False
        assert (
            run("States.ArrayContains($.a, $.v)", {"a": [{"a": 1, "b": 2}], "v": {"b": 2, "a": 1}})
            is False
        )
        assert run("States.ArrayContains($.a, null)", {"a": [1, None]}) is True

    @pytest.mark.parametrize(
        ("args", "expected"),
        [
            ("1, 5, 1", [1, 2, 3, 4, 5]),
            ("-2, 2, 2", [-2, 0, 2]),
            ("5, 1, -2", [5, 3, 1]),
            ("3, 3, -1", [3]),
            ("5, 1, 1", []),
            ("1.6, 1.4, 1", [1]),
            ("5.4, -0.6, -2.4", [5, 3, 1]),
        ],
    )
    def test_array_range(self, args: str, expected: list[int]) -> None:
        assert run(f"States.ArrayRange({args})") == expected

    def test_array_range_holds_at_most_a_thousand_items(self) -> None:
        assert len(run("States.ArrayRange(1, 1000, 1)")) == 1000
        assert len(run("States.ArrayRange(1000, 1, -1)")) == 1000
        assert "more than the limit of 1000" in failure("States.ArrayRange(1, 1001, 1)")

    @pytest.mark.parametrize("args", ["1, 10, 0", "1, 10, 0.49", "'a', 5, 1"])
    def test_array_range_rejects_a_zero_step_and_non_numbers(self, args: str) -> None:
        assert "Invalid arguments in States.ArrayRange" in failure(f"States.ArrayRange({args})")

    def test_array_get_item(self) -> None:
        assert run("States.ArrayGetItem($.a, 1.2)", {"a": [10, 20, 30]}) == 20
        assert run("States.ArrayGetItem($.a, 999)", {"a": []}) is None
        assert "out of range for an array of 3 items" in failure(
            "States.ArrayGetItem($.a, 3)", {"a": [1, 2, 3]}
        )
        assert "must not be negative" in failure("States.ArrayGetItem($.a, -1)", {"a": [1]})
        assert "must be a number" in failure("States.ArrayGetItem($.a, '1')", {"a": [1]})

    def test_array_unique_keeps_first_occurrences(self) -> None:
        assert run("States.ArrayUnique($.a)", {"a": [1, "1", 1.0, "01", None, None]}) == [
            1,
            "1",
            "01",
            None,
        ]
        assert run("States.ArrayUnique($.a)", {"a": [{"a": 1, "b": 2}, {"b": 2, "a": 1}]}) == [
            {"a": 1, "b": 2}
        ]
        assert run("States.ArrayUnique($.a)", {"a": [True, 1, False, 0]}) == [True, 1, False, 0]

    @pytest.mark.parametrize(
        "expr",
        [
            "States.ArrayLength($.v)",
            "States.ArrayUnique($.v)",
            "States.ArrayContains($.v, 1)",
            "States.ArrayGetItem($.v, 0)",
            "States.ArrayPartition($.v, 1)",
        ],
    )
    def test_array_functions_need_an_array(self, expr: str) -> None:
        assert 'the first argument must be an array, got object {"a":1}' in failure(
            expr, {"v": {"a": 1}}
        )

    def test_a_large_array_is_refused(self) -> None:
        big = ["x" * 1000] * 300
        assert "payload limit of 256 KiB" in failure("States.ArrayContains($.a, 'x')", {"a": big})


class TestEncodingAndHashing:
    @pytest.mark.parametrize(
        ("text", "encoded"),
        [
            ("hello", "aGVsbG8="),
            ("", ""),
            ("✓", "4pyT"),
            ("こんにちは", "44GT44KT44Gr44Gh44Gv"),
            ("🚀", "8J+agA=="),
        ],
    )
    def test_base64_round_trip_of_known_values(self, text: str, encoded: str) -> None:
        assert run("States.Base64Encode($.s)", {"s": text}) == encoded
        assert run("States.Base64Decode($.s)", {"s": encoded}) == text

    def test_base64_decoding_is_lenient_like_step_functions(self) -> None:
        assert run("States.Base64Decode(' YWJjZA== ')") == "abcd"
        assert run("States.Base64Decode('YWJjZA')") == "abcd"
        assert run("States.Base64Decode('ab==cd')") == "i"

    def test_base64_texts_are_limited_to_ten_thousand_characters(self) -> None:
        assert len(run("States.Base64Encode($.s)", {"s": "a" * 10_000})) > 0
        for name in ("Base64Encode", "Base64Decode"):
            assert "more than the limit of 10000" in failure(
                f"States.{name}($.s)", {"s": "A" * 10_001}
            )
            assert "must be a string" in failure(f"States.{name}(123)")

    @pytest.mark.parametrize(
        ("algorithm", "digest"),
        [
            ("MD5", "5d41402abc4b2a76b9719d911017c592"),
            ("SHA-1", "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"),
            ("SHA-256", "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"),
            (
                "SHA-384",
                "59e1748777448c69de6b800d7a33bbfb9ff1b463e44354c3553bcdb9c666fa90125a3c79f90397bdf5f6a13de828684f",
            ),
            (
                "SHA-512",
                "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7"
                "2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043",
            ),
        ],
    )
    def test_hash(self, algorithm: str, digest: str) -> None:
        assert run(f"States.Hash('hello', '{algorithm}')") == digest

    @pytest.mark.parametrize("algorithm", ["sha-256", "SHA256", "MD-5", "", "UNSUPPORTED"])
    def test_hash_algorithms_are_spelled_exactly(self, algorithm: str) -> None:
        assert "the algorithm must be one of MD5, SHA-1" in failure(
            f"States.Hash('x', '{algorithm}')"
        )

    def test_hash_writes_other_values_as_json_and_limits_the_length(self) -> None:
        assert run("States.Hash(123, 'MD5')") == run("States.Hash('123', 'MD5')")
        assert "more than the limit of 10000" in failure(
            "States.Hash($.s, 'MD5')", {"s": "a" * 10_001}
        )


class TestJson:
    def test_json_merge_is_shallow(self) -> None:
        assert run(
            "States.JsonMerge($.a, $.b, false)", {"a": {"x": 1, "n": {"l": 1}}, "b": {"n": None}}
        ) == {
            "x": 1,
            "n": None,
        }
        assert run("States.JsonMerge($.a, $.b, 'false')", {"a": {"x": 1}, "b": {"y": 2}}) == {
            "x": 1,
            "y": 2,
        }

    def test_json_merge_refuses_deep_merging_and_non_objects(self) -> None:
        assert "only shallow merging is supported" in failure(
            "States.JsonMerge($.a, $.a, true)", {"a": {}}
        )
        assert "the second argument must be a JSON object, got null" in failure(
            "States.JsonMerge($.a, $.b, false)", {"a": {}, "b": None}
        )

    @pytest.mark.parametrize(
        ("text", "value"),
        [
            ('"hello"', "hello"),
            ("123", 123),
            ("true", True),
            ("null", None),
            (' {"a":1} ', {"a": 1}),
            ("", None),
        ],
    )
    def test_string_to_json(self, text: str, value: Any) -> None:
        assert run("States.StringToJson($.s)", {"s": text}) == value

    @pytest.mark.parametrize(
        "data", [{"s": "{bad json}"}, {"s": '{"a":1'}, {"s": "undefined"}, {"s": "NaN"}, {"s": 123}]
    )
    def test_string_to_json_refuses_what_is_not_json_text(self, data: dict[str, Any]) -> None:
        assert "Invalid arguments in States.StringToJson" in failure(
            "States.StringToJson($.s)", data
        )


class TestMaths:
    @pytest.mark.parametrize(
        ("a", "b", "total"),
        [
            (-9, 3, -6),
            (1.49, 1.5, 3),
            (1.5, 1.51, 4),
            (-1.49, -1.5, -2),
            (-1.5, -1.51, -3),
            (0.1, 0.2, 0),
            (2147483646, 1, 2147483647),
            (-2147483647, -1, -2147483648),
        ],
    )
    def test_math_add_rounds_half_up_as_step_functions_does(
        self, a: float, b: float, total: int
    ) -> None:
        assert run("States.MathAdd($.a, $.b)", {"a": a, "b": b}) == total

    @pytest.mark.parametrize(
        "args",
        ["2147483647, 1", "-2147483648, -1", "3000000000, 1", "'1', 2", "true, 1", "null, 1"],
    )
    def test_math_add_stays_within_32_bit_integers(self, args: str) -> None:
        assert "Invalid arguments in States.MathAdd" in failure(f"States.MathAdd({args})")

    def test_seeded_math_random_is_java_util_random(self) -> None:
        assert JavaRandom(42).next_bits(32) == -1170105035
        assert JavaRandom(42).next_int(10) == 0
        assert run("States.MathRandom(1, 11, 42)") == 1
        entropy = FakeEntropy()
        assert run("States.MathRandom(0, 999, 3)", entropy=entropy) == run(
            "States.MathRandom(0, 999, 3)"
        )
        assert entropy.asked == 0

    def test_unseeded_math_random_draws_from_entropy_and_truncates_bounds(self) -> None:
        assert run("States.MathRandom(1.6, 5.4)", entropy=FakeEntropy((0.0,))) == 1
        assert run("States.MathRandom(1.6, 5.4)", entropy=FakeEntropy((0.999999,))) == 4

    @pytest.mark.parametrize(
        "args", ["1, 1", "10, 5", "1.4, 1.6", "'a', 10", "1, 10, 'seed'", "1, 10, null"]
    )
    def test_math_random_needs_a_start_below_the_end_and_numbers(self, args: str) -> None:
        assert "Invalid arguments in States.MathRandom" in failure(f"States.MathRandom({args})")

    @given(seed=st.integers(-(2**63), 2**63 - 1), bound=st.integers(1, 2**31 - 1))
    def test_java_random_draws_stay_within_the_bound(self, seed: int, bound: int) -> None:
        assert 0 <= JavaRandom(seed).next_int(bound) < bound


class TestStringSplit:
    @pytest.mark.parametrize(
        ("text", "delimiters", "pieces"),
        [
            ("a,,b", ",", ["a", "b"]),
            (",a,b,", ",", ["a", "b"]),
            ("", ",", []),
            ("abc", "", ["abc"]),
            ("1a2b3ab4", "ab", ["1", "2", "3", "4"]),
            ("a|b.c", "|.", ["a", "b", "c"]),
        ],
    )
    def test_pieces_between_any_delimiter_character_without_empty_ones(
        self, text: str, delimiters: str, pieces: list[str]
    ) -> None:
        assert run("States.StringSplit($.t, $.d)", {"t": text, "d": delimiters}) == pieces

    @pytest.mark.parametrize(
        "data", [{"t": 123, "d": ","}, {"t": "a", "d": None}, {"t": "a", "d": [","]}]
    )
    def test_both_arguments_must_be_strings(self, data: dict[str, Any]) -> None:
        assert "Invalid arguments in States.StringSplit" in failure(
            "States.StringSplit($.t, $.d)", data
        )


class TestParsing:
    def test_the_parse_is_a_tree_of_calls_literals_and_paths(self) -> None:
        call = parse_intrinsic("States.Format('{} {}', $.a, States.MathAdd(1, -2))")
        assert call == IntrinsicCall(
            name="States.Format",
            arguments=(
                LiteralArgument("{} {}", "{} {}"),
                PathArgument("$.a"),
                IntrinsicCall(
                    "States.MathAdd",
                    (LiteralArgument(1), LiteralArgument(-2)),
                    "States.MathAdd(1, -2)",
                ),
            ),
            text="States.Format('{} {}', $.a, States.MathAdd(1, -2))",
        )

    def test_calls_nest_ten_deep_and_no_deeper(self) -> None:
        expected: list[Any] = []
        for _ in range(9):
            expected = [expected]
        assert run("States.Array(" * 10 + ")" * 10) == expected
        with pytest.raises(IntrinsicSyntaxError, match="nested at most 10 deep"):
            parse_intrinsic("States.Array(" * 11 + ")" * 11)

    @pytest.mark.parametrize(
        ("expr", "reason"),
        [
            ("States.Nope(1)", "unknown intrinsic function States.Nope"),
            ("States.MathAdd(1)", "States.MathAdd takes 2 arguments, got 1"),
            ("States.UUID(1)", "States.UUID takes 0 arguments, got 1"),
            ("States.MathRandom(1, 2, 3, 4)", "States.MathRandom takes 2 to 3 arguments, got 4"),
            ("States.Format()", "States.Format takes at least 1 argument, got 0"),
            ("States.Format('{}')", "the States.Format template has 1 '{}' but 0 values follow it"),
            ("States.Format('{')", "matching '}' not found for '{'"),
            ("States.Format(1)", "the first argument of States.Format must be a string"),
            ("States.Array('open)", "unterminated string"),
            (r"States.Array('a\nb')", "a backslash must escape one of"),
            ("States.Array($.)", "invalid path '$.'"),
            ("States.Array(1,)", "expected a string in single quotes"),
            ("States.Array(1 2)", "expected ',' or ')'"),
            ("States.Array(yes)", "expected a string in single quotes"),
            ("States.Array(1) extra", "unexpected text after the closing ')'"),
            ("States.Array(1e999)", "the number 1e999 is too large"),
            ("Format('x')", "expected an intrinsic function such as States.Format"),
        ],
    )
    def test_invalid_invocations_say_why(self, expr: str, reason: str) -> None:
        with pytest.raises(IntrinsicSyntaxError) as caught:
            parse_intrinsic(expr)
        assert reason in caught.value.reason
        assert isinstance(caught.value, ValueError)

    def test_an_invalid_invocation_at_runtime_is_an_intrinsic_failure(self) -> None:
        assert "unknown intrinsic function States.Nope" in failure("States.Nope()")

    @pytest.mark.parametrize(
        ("expr", "expected"),
        [
            ("States.Format('x')", True),
            ("States.UUID()", True),
            ("States.Array($.a) ", True),
            ("States.Nope(", False),
            ("$.a", False),
            ("States.Format", False),
            (" States.UUID()", False),
            (42, False),
        ],
    )
    def test_is_intrinsic(self, expr: Any, expected: bool) -> None:
        assert is_intrinsic(expr) is expected


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=15,
)


class TestProperties:
    @given(value=JSON_VALUES)
    def test_string_to_json_undoes_json_to_string(self, value: Any) -> None:
        text = run("States.JsonToString($.v)", {"v": value})
        assert json.loads(text) == value
        assert run("States.StringToJson($.t)", {"t": text}) == value

    @given(text=st.text(max_size=200))
    def test_base64_decode_undoes_base64_encode(self, text: str) -> None:
        encoded = run("States.Base64Encode($.t)", {"t": text})
        assert base64.b64decode(encoded) == text.encode()
        assert run("States.Base64Decode($.e)", {"e": encoded}) == text

    @given(items=st.lists(JSON_VALUES, max_size=20), size=st.integers(1, 25))
    def test_array_partition_chunks_concatenate_to_the_array(
        self, items: list[Any], size: int
    ) -> None:
        chunks = run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})
        assert [item for chunk in chunks for item in chunk] == items
        assert all(len(chunk) == size for chunk in chunks[:-1])
        assert all(0 < len(chunk) <= size for chunk in chunks)
