"""Choice rules in JSONPath states, judged as AWS Step Functions judges them."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepstream.asl.choice_rules import (
    COMPARISONS,
    PATH_COMPARISONS,
    evaluate_rule,
    rule_errors,
)
from stepstream.asl.errors import RUNTIME, StatesError

INPUT = {
    "name": "widget",
    "count": 5,
    "price": 9.5,
    "gift": True,
    "nothing": None,
    "placed": "2016-03-14T01:59:00Z",
    "other": {"count": 7, "name": "zebra", "gift": False, "placed": "2016-03-14T03:59:00+02:00"},
    "tags": ["a", "b"],
}
CONTEXT = {"Execution": {"Id": "exec-1", "StartTime": "2016-03-14T01:59:00.250Z"}}
VARIABLES = {"limit": 10, "customer": {"tier": "gold"}}


def holds(rule: dict[str, Any], data: Any = None) -> bool:
    return evaluate_rule(
        rule, data=INPUT if data is None else data, context=CONTEXT, variables=VARIABLES
    )


# --- every comparison: true, false, and a value of the wrong type ------------------------

CASES: list[tuple[str, str, Any, Any, Any]] = [
    # operator, variable, operand that holds, operand that does not, operand of another type
    ("StringEquals", "$.name", "widget", "gadget", 5),
    ("StringLessThan", "$.name", "zebra", "apple", 5),
    ("StringGreaterThan", "$.name", "apple", "zebra", 5),
    ("StringLessThanEquals", "$.name", "widget", "apple", 5),
    ("StringGreaterThanEquals", "$.name", "widget", "zebra", 5),
    ("StringMatches", "$.name", "wid*", "*gad*", 5),
    ("NumericEquals", "$.count", 5, 6, "5"),
    ("NumericLessThan", "$.count", 6, 5, "6"),
    ("NumericGreaterThan", "$.count", 4, 5, "4"),
    ("NumericLessThanEquals", "$.count", 5, 4, "5"),
    ("NumericGreaterThanEquals", "$.count", 5, 6, "5"),
    ("BooleanEquals", "$.gift", True, False, "true"),
    ("TimestampEquals", "$.placed", "2016-03-14T01:59:00Z", "2016-03-14T01:59:01Z", 1),
    ("TimestampLessThan", "$.placed", "2016-03-14T02:00:00Z", "2016-03-14T01:59:00Z", 1),
    ("TimestampGreaterThan", "$.placed", "2016-03-14T01:58:59Z", "2016-03-14T01:59:00Z", 1),
    ("TimestampLessThanEquals", "$.placed", "2016-03-14T01:59:00Z", "2016-03-14T01:58:00Z", 1),
    ("TimestampGreaterThanEquals", "$.placed", "2016-03-14T01:59:00Z", "2016-03-14T02:00:00Z", 1),
]


def test_the_cases_cover_every_literal_comparison_operator() -> None:
    assert {case[0] for case in CASES} == set(COMPARISONS)


@pytest.mark.parametrize(("name", "variable", "yes", "no", "mismatch"), CASES)
def test_each_comparison_holds_or_not(
    name: str, variable: str, yes: Any, no: Any, mismatch: Any
) -> None:
    assert holds({"Variable": variable, name: yes}) is True
    assert holds({"Variable": variable, name: no}) is False


@pytest.mark.parametrize(("name", "variable", "yes", "no", "mismatch"), CASES)
def test_a_value_of_another_type_simply_does_not_match(
    name: str, variable: str, yes: Any, no: Any, mismatch: Any
) -> None:
    assert holds({"Variable": variable, name: mismatch}) is False
    # ...and the other way round: the variable has the wrong type for the operator.
    wrong_variable = "$.tags" if variable != "$.tags" else "$.count"
    assert holds({"Variable": wrong_variable, name: yes}) is False


@pytest.mark.parametrize(("name", "variable", "yes", "no", "mismatch"), CASES)
def test_a_missing_variable_is_a_runtime_error_naming_the_path(
    name: str, variable: str, yes: Any, no: Any, mismatch: Any
) -> None:
    with pytest.raises(StatesError) as caught:
        holds({"Variable": "$.absent.deeper", name: yes})
    assert caught.value.error == RUNTIME
    assert caught.value.cause == (
        "Invalid path '$.absent.deeper': The choice state's condition path references "
        "an invalid value."
    )


# --- the ...Path forms compare with another value of the input ---------------------------

PATH_CASES: list[tuple[str, str, str, str]] = [
    # operator, variable, path that holds, path that does not
    ("StringEqualsPath", "$.name", "$.name", "$.other.name"),
    ("StringLessThanPath", "$.name", "$.other.name", "$.name"),
    ("StringGreaterThanPath", "$.other.name", "$.name", "$.other.name"),
    ("StringLessThanEqualsPath", "$.name", "$.name", "$.placed"),
    ("StringGreaterThanEqualsPath", "$.name", "$.name", "$.other.name"),
    ("NumericEqualsPath", "$.count", "$.count", "$.other.count"),
    ("NumericLessThanPath", "$.count", "$.other.count", "$.count"),
    ("NumericGreaterThanPath", "$.other.count", "$.count", "$.other.count"),
    ("NumericLessThanEqualsPath", "$.price", "$limit", "$.count"),
    ("NumericGreaterThanEqualsPath", "$.price", "$.count", "$limit"),
    ("BooleanEqualsPath", "$.gift", "$.gift", "$.other.gift"),
    ("TimestampEqualsPath", "$.placed", "$.other.placed", "$$.Execution.StartTime"),
    ("TimestampLessThanPath", "$.placed", "$$.Execution.StartTime", "$.other.placed"),
    ("TimestampGreaterThanPath", "$$.Execution.StartTime", "$.placed", "$$.Execution.StartTime"),
    ("TimestampLessThanEqualsPath", "$.placed", "$.other.placed", "$.name"),
    ("TimestampGreaterThanEqualsPath", "$.placed", "$.other.placed", "$$.Execution.StartTime"),
]


def test_the_path_cases_cover_every_path_operator() -> None:
    assert {case[0] for case in PATH_CASES} == set(PATH_COMPARISONS)


@pytest.mark.parametrize(("name", "variable", "yes", "no"), PATH_CASES)
def test_each_path_comparison_reads_its_operand_from_the_data(
    name: str, variable: str, yes: str, no: str
) -> None:
    assert holds({"Variable": variable, name: yes}) is True
    assert holds({"Variable": variable, name: no}) is False


@pytest.mark.parametrize(("name", "variable", "yes", "no"), PATH_CASES)
def test_a_missing_operand_path_is_a_runtime_error_naming_that_path(
    name: str, variable: str, yes: str, no: str
) -> None:
    with pytest.raises(StatesError) as caught:
        holds({"Variable": variable, name: "$.right"})
    assert caught.value.error == RUNTIME
    assert "Invalid path '$.right'" in caught.value.cause


def test_string_matches_has_no_path_form() -> None:
    assert "StringMatchesPath" not in PATH_COMPARISONS


# --- type tests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test", "variable", "expected"),
    [
        ("IsNull", "$.nothing", True),
        ("IsNull", "$.count", False),
        ("IsNumeric", "$.price", True),
        ("IsNumeric", "$.gift", False),
        ("IsNumeric", "$.name", False),
        ("IsString", "$.name", True),
        ("IsString", "$.nothing", False),
        ("IsBoolean", "$.gift", True),
        ("IsBoolean", "$.count", False),
        ("IsTimestamp", "$.placed", True),
        ("IsTimestamp", "$.name", False),
        ("IsTimestamp", "$.count", False),
        ("IsPresent", "$.nothing", True),
        ("IsPresent", "$.count", True),
        ("IsPresent", "$.absent", False),
        ("IsPresent", "$.tags[5]", False),
    ],
)
def test_type_tests_compare_their_finding_with_the_boolean_given(
    test: str, variable: str, expected: bool
) -> None:
    assert holds({"Variable": variable, test: True}) is expected
    assert holds({"Variable": variable, test: False}) is not expected


@pytest.mark.parametrize("test", ["IsNull", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"])
def test_only_is_present_may_look_at_a_missing_variable(test: str) -> None:
    with pytest.raises(StatesError):
        holds({"Variable": "$.absent", test: False})


# --- where a Variable may read from ---------------------------------------------------------


def test_a_variable_may_read_the_context_object_and_workflow_variables() -> None:
    assert holds({"Variable": "$$.Execution.Id", "StringEquals": "exec-1"})
    assert holds({"Variable": "$customer.tier", "StringEquals": "gold"})
    assert holds({"Variable": "$limit", "NumericGreaterThanPath": "$.count"})
    assert holds({"Variable": "$.tags[1]", "StringEquals": "b"})


def test_a_missing_workflow_variable_is_a_runtime_error() -> None:
    with pytest.raises(StatesError, match=r"Invalid path '\$unknown'"):
        holds({"Variable": "$unknown", "IsNull": True})


# --- And, Or, Not ---------------------------------------------------------------------------

YES = {"Variable": "$.count", "NumericEquals": 5}
NO = {"Variable": "$.count", "NumericEquals": 6}
BROKEN = {"Variable": "$.absent", "NumericEquals": 6}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"And": [YES, YES]}, True),
        ({"And": [YES, NO]}, False),
        ({"Or": [NO, YES]}, True),
        ({"Or": [NO, NO]}, False),
        ({"Not": NO}, True),
        ({"Not": YES}, False),
        ({"Not": {"Not": YES}}, True),
        ({"And": [{"Or": [NO, {"Not": NO}]}, {"Not": {"And": [YES, NO]}}]}, True),
        ({"Or": [{"And": [YES, NO]}, {"Not": {"Or": [YES, NO]}}]}, False),
    ],
)
def test_combinators_nest(rule: dict[str, Any], expected: bool) -> None:
    assert holds(rule) is expected


def test_and_and_or_stop_at_the_first_deciding_rule() -> None:
    assert holds({"And": [NO, BROKEN]}) is False
    assert holds({"Or": [YES, BROKEN]}) is True
    with pytest.raises(StatesError):
        holds({"And": [YES, BROKEN]})


def test_a_top_level_rule_may_carry_next_assign_and_comment() -> None:
    rule = {**YES, "Next": "Ship", "Assign": {"x": 1}, "Comment": "five"}
    assert holds(rule) is True


# --- StringMatches ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("foo*.log", "foo23.log", True),
        ("*.log", "zebra.log", True),
        ("foo*.*", "foobar.zebra", True),
        ("*", "", True),
        ("", "", True),
        ("", "x", False),
        ("a*b*c", "abc", True),
        ("a*b*c", "acb", False),
        ("a*a", "a", False),
        ("log-\\*", "log-*", True),
        ("log-\\*", "log-x", False),
        ("\\**", "*anything", True),
        ("\\**", "anything", False),
        ("C:\\\\temp\\\\*", "C:\\temp\\file", True),
        ("a\\b", "a\\b", True),
        ("a?b", "axb", False),
        ("a?b", "a?b", True),
        ("[ab]", "a", False),
    ],
)
def test_string_matches_has_one_wildcard_and_escapes(
    pattern: str, text: str, expected: bool
) -> None:
    assert holds({"Variable": "$.s", "StringMatches": pattern}, data={"s": text}) is expected


plain = st.text(alphabet="abc.-_xyz", max_size=12)


@given(plain, st.lists(plain, min_size=1, max_size=4))
def test_string_matches_agrees_with_shell_wildcards_on_plain_text(
    text: str, pieces: list[str]
) -> None:
    pattern = "*".join(pieces)
    expected = fnmatch.fnmatchcase(text, pattern)
    assert holds({"Variable": "$.s", "StringMatches": pattern}, data={"s": text}) is expected


@given(plain, plain)
def test_a_pattern_matches_any_text_that_contains_it_between_stars(before: str, after: str) -> None:
    text = f"{before}needle{after}"
    assert holds({"Variable": "$.s", "StringMatches": "*needle*"}, data={"s": text})


# --- numbers, strings and timestamps as AWS orders them ------------------------------------------


@given(
    st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    st.integers() | st.floats(allow_nan=False, allow_infinity=False),
)
def test_numeric_comparisons_agree_with_python(a: float, b: float) -> None:
    data = {"a": a}
    assert holds({"Variable": "$.a", "NumericLessThan": b}, data) is (a < b)
    assert holds({"Variable": "$.a", "NumericGreaterThanEquals": b}, data) is (a >= b)
    assert holds({"Variable": "$.a", "NumericEquals": b}, data) is (a == b)


def test_an_integer_equals_the_same_float() -> None:
    assert holds({"Variable": "$.n", "NumericEquals": 1}, data={"n": 1.0})


def test_a_boolean_is_not_a_number() -> None:
    assert holds({"Variable": "$.b", "NumericEquals": 1}, data={"b": True}) is False
    assert holds({"Variable": "$.n", "BooleanEquals": True}, data={"n": 1}) is False


@given(
    st.text(alphabet=st.characters(max_codepoint=0xD7FF)),
    st.text(alphabet=st.characters(max_codepoint=0xD7FF)),
)
def test_string_order_agrees_with_python_below_the_surrogates(a: str, b: str) -> None:
    assert holds({"Variable": "$.a", "StringLessThan": b}, data={"a": a}) is (a < b)


def test_strings_order_by_utf16_code_unit_as_aws_does() -> None:
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FFFF in UTF-16.
    assert holds({"Variable": "$.a", "StringLessThan": "\uffff"}, data={"a": "\U0001f600"})


@pytest.mark.parametrize(
    ("left", "right", "equal"),
    [
        ("2016-03-14T01:59:00Z", "2016-03-14T03:59:00+02:00", True),
        ("2016-03-14T01:59:00Z", "2016-03-13T20:29:00-05:30", True),
        ("2016-03-14T01:59:00Z", "2016-03-14T01:59:00.000Z", True),
        ("2016-03-14T01:59:00.001Z", "2016-03-14T01:59:00Z", False),
    ],
)
def test_timestamps_compare_the_instants_they_name(left: str, right: str, equal: bool) -> None:
    assert holds({"Variable": "$.t", "TimestampEquals": right}, data={"t": left}) is equal


@pytest.mark.parametrize(
    "text",
    [
        "2016-03-14t01:59:00Z",
        "2016-03-14T01:59:00z",
        "2016-03-14T01:59:00",
        "2016-03-14",
        "2016-02-30T00:00:00Z",
    ],
)
def test_a_string_that_is_not_an_asl_timestamp_does_not_compare(text: str) -> None:
    assert holds({"Variable": "$.t", "TimestampEquals": text}, data={"t": text}) is False
    assert holds({"Variable": "$.t", "IsTimestamp": True}, data={"t": text}) is False


moments = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-23 * 60, max_value=23 * 60)


def rfc3339(moment: datetime, offset_minutes: int) -> str:
    local = moment.astimezone(timezone(timedelta(minutes=offset_minutes)))
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


@given(moments, offsets, moments, offsets)
def test_timestamp_order_agrees_with_the_instants(
    a: datetime, a_offset: int, b: datetime, b_offset: int
) -> None:
    a, b = (
        a.replace(microsecond=a.microsecond // 1000 * 1000),
        b.replace(microsecond=b.microsecond // 1000 * 1000),
    )
    data = {"t": rfc3339(a, a_offset)}
    other = rfc3339(b, b_offset)
    assert holds({"Variable": "$.t", "TimestampLessThan": other}, data) is (a < b)
    assert holds({"Variable": "$.t", "TimestampEquals": other}, data) is (a == b)


# --- structural checks for the validator ---------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"Variable": "$.count", "NumericEquals": 5, "Next": "A"},
        {"Variable": "$.t", "TimestampLessThan": "2016-03-14T01:59:00Z", "Next": "A"},
        {"Variable": "$.a", "StringEqualsPath": "$.b", "Next": "A", "Assign": {}, "Comment": "c"},
        {"Not": {"Variable": "$$.Execution.Id", "IsPresent": True}, "Next": "A"},
        {"And": [YES, {"Or": [NO, {"Variable": "$limit", "IsNumeric": True}]}], "Next": "A"},
    ],
)
def test_well_formed_rules_have_no_errors(rule: dict[str, Any]) -> None:
    assert rule_errors(rule, at="Choices[0]") == []


@pytest.mark.parametrize(
    ("rule", "location", "fragment"),
    [
        ({"Variable": "$.a", "NumericEqual": 5}, "Choices[0]", "unknown field 'NumericEqual'"),
        ({"Variable": "$.a", "StringMatchesPath": "$.b"}, "Choices[0]", "unknown field"),
        ({"Variable": "$.a"}, "Choices[0]", "needs one operator"),
        (
            {"Variable": "$.a", "NumericEquals": 5, "IsNull": True},
            "Choices[0]",
            "found NumericEquals, IsNull",
        ),
        ({"Variable": "$.a", "NumericEquals": "5"}, "Choices[0]", "must be a number"),
        ({"Variable": "$.a", "NumericEquals": True}, "Choices[0]", "must be a number"),
        ({"Variable": "$.a", "StringEquals": 5}, "Choices[0]", "must be a string"),
        ({"Variable": "$.a", "BooleanEquals": "true"}, "Choices[0]", "must be a boolean"),
        ({"Variable": "$.a", "IsPresent": 1}, "Choices[0]", "must be a boolean"),
        ({"Variable": "$.a", "TimestampEquals": "yesterday"}, "Choices[0]", "timestamp"),
        ({"NumericEquals": 5}, "Choices[0]", "needs a Variable"),
        ({"Variable": 5, "NumericEquals": 5}, "Choices[0]", "Variable must be a path"),
        ({"Variable": "a.b", "NumericEquals": 5}, "Choices[0]", "Variable is not a valid path"),
        ({"Variable": "$.a[*]", "NumericEquals": 5}, "Choices[0]", "reference path"),
        ({"Variable": "$.a", "NumericEqualsPath": 5}, "Choices[0]", "must be a path"),
        ({"And": []}, "Choices[0]", "non-empty array"),
        ({"Or": YES}, "Choices[0]", "non-empty array"),
        ({"Not": [YES]}, "Choices[0].Not", "must be a JSON object"),
        ({"And": [YES, "x"]}, "Choices[0].And[1]", "must be a JSON object"),
        ({"Variable": "$.a", "And": [YES]}, "Choices[0]", "takes no Variable"),
        ({"And": [{**YES, "Next": "B"}]}, "Choices[0].And[0]", "Next is allowed only"),
        ({"Not": {**YES, "Assign": {}}}, "Choices[0].Not", "Assign is allowed only"),
        ({"Not": {**YES, "Comment": 5}}, "Choices[0].Not", "Comment must be a string"),
        ({"Or": [YES, {"And": [NO, {"Variable": "$.a"}]}]}, "Choices[0].Or[1].And[1]", "operator"),
    ],
)
def test_malformed_rules_are_reported_where_they_are(
    rule: dict[str, Any], location: str, fragment: str
) -> None:
    problems = rule_errors(rule, at="Choices[0]")
    assert any(where == location and fragment in message for where, message in problems), problems


def test_every_problem_is_reported_not_just_the_first() -> None:
    rule = {"And": [{"Variable": "$.a", "NumericEquals": "x"}, {"Variable": "$.b", "Next": "X"}]}
    locations = [where for where, _ in rule_errors(rule)]
    assert locations.count("And[0]") == 1
    assert locations.count("And[1]") == 2


def test_a_rule_that_is_not_an_object_is_reported() -> None:
    assert rule_errors("StringEquals") == [("", "a Choice rule must be a JSON object, got string")]
