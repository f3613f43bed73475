"""ASL paths: selecting with Jayway JsonPath's rules, validating, and applying ResultPath."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.jsonpath import (
    PathNotFound,
    PathSyntaxError,
    apply_result_path,
    is_reference_path,
    is_valid_path,
    path_error,
    select,
    select_with_context,
)

STORE: dict[str, Any] = {
    "store": {
        "book": [
            {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
            {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
            {"category": "fiction", "author": "Herman Melville", "isbn": "0-553", "price": 8.99},
            {"category": "fiction", "author": "J. R. R. Tolkien", "isbn": "0-395", "price": 22.99},
        ],
        "bicycle": {"color": "red", "price": 19.95},
    },
    "expensive": 10,
}
BOOKS = STORE["store"]["book"]


class TestDefinitePaths:
    def test_dollar_is_the_whole_input(self) -> None:
        assert select("$", STORE) is STORE

    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$.expensive", 10),
            ("$.store.bicycle.color", "red"),
            ("$['store']['bicycle']['color']", "red"),
            ('$["store"].bicycle["color"]', "red"),
            ("$.store.['bicycle'].color", "red"),
            ("$.store.book[0].title", "Sayings"),
            ("$.store.book[-1].isbn", "0-395"),
            ("$.store.book[-4].author", "Nigel Rees"),
        ],
    )
    def test_children_and_indexes(self, path: str, expected: Any) -> None:
        assert select(path, STORE) == expected

    def test_names_with_blanks_dots_and_quotes_use_brackets_or_escapes(self) -> None:
        data = {"a b": 1, "c.d": 2, "it's": 3, 'say "hi"': 4}
        assert select("$['a b']", data) == 1
        assert select("$.c\\.d", data) == 2
        assert select("$['it\\'s']", data) == 3
        assert select("$['say \"hi\"']", data) == 4

    def test_a_null_value_is_found(self) -> None:
        assert select("$.a", {"a": None}) is None

    @pytest.mark.parametrize(
        ("path", "data", "reason"),
        [
            ("$.missing", {"a": 1}, "no key 'missing'"),
            ("$.a.b", {"a": None}, "cannot read key 'b' from null"),
            ("$.a.b", {"a": "text"}, "cannot read key 'b' from string"),
            ("$.a[3]", {"a": [1, 2]}, "index 3 is out of range for an array of 2"),
            ("$.a[-3]", {"a": [1, 2]}, "index -3 is out of range for an array of 2"),
            ("$.a[0]", {"a": "text"}, "cannot index string with [0]"),
            ("$.a[0]", {"a": {"0": 1}}, "cannot index object with [0]"),
        ],
    )
    def test_a_path_that_matches_nothing_raises(self, path: str, data: Any, reason: str) -> None:
        with pytest.raises(PathNotFound) as caught:
            select(path, data)
        assert caught.value.path == path
        assert caught.value.reason == reason
        assert isinstance(caught.value, LookupError)

    def test_a_syntax_error_is_a_value_error_naming_the_path(self) -> None:
        with pytest.raises(PathSyntaxError, match=r"Invalid JSONPath '\$\.'"):
            select("$.", STORE)


class TestIndefinitePaths:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$.store.book[*].author", [b["author"] for b in BOOKS]),
            ("$..author", [b["author"] for b in BOOKS]),
            ("$.store..price", [8.95, 12.99, 8.99, 22.99, 19.95]),
            ("$.store.bicycle.*", ["red", 19.95]),
            ("$.store.book[0,2].price", [8.95, 8.99]),
            ("$.store.book[1:3].price", [12.99, 8.99]),
            ("$.store.book[:2].price", [8.95, 12.99]),
            ("$.store.book[-2:].price", [8.99, 22.99]),
            ("$.store.book[2:].price", [8.99, 22.99]),
            ("$..book[2].price", [8.99]),
            ("$..book[-1].price", [22.99]),
        ],
    )
    def test_wildcards_descent_unions_and_slices_return_lists(
        self, path: str, expected: list[Any]
    ) -> None:
        assert select(path, STORE) == expected

    def test_descent_visits_parents_before_children_in_document_order(self) -> None:
        data = {"id": 1, "child": {"id": 2, "items": [{"id": 3}, {"id": 4}]}, "last": {"id": 5}}
        assert select("$..id", data) == [1, 2, 3, 4, 5]

    def test_a_single_match_of_an_indefinite_path_is_still_a_list(self) -> None:
        assert select("$.store.book[?(@.price > 20)].author", STORE) == ["J. R. R. Tolkien"]

    def test_an_indefinite_path_that_matches_nothing_is_an_empty_list(self) -> None:
        assert select("$.store.book[?(@.price > 100)]", STORE) == []
        assert select("$.store.book[*].missing", STORE) == []
        assert select("$..missing", STORE) == []

    def test_misses_after_the_first_indefinite_step_are_skipped(self) -> None:
        assert select("$.store.book[*].isbn", STORE) == ["0-553", "0-395"]

    def test_a_missing_definite_step_before_a_wildcard_still_raises(self) -> None:
        with pytest.raises(PathNotFound):
            select("$.missing[*]", STORE)
        with pytest.raises(
            PathNotFound, match="an array index or slice cannot be applied to number"
        ):
            select("$.expensive[1:]", STORE)

    def test_a_wildcard_on_a_scalar_finds_nothing(self) -> None:
        assert select("$.expensive[*]", STORE) == []
        assert select("$.expensive.*", STORE) == []

    def test_a_name_list_as_last_step_merges_into_one_object(self) -> None:
        assert select("$.store.book[0]['title','price','nope']", STORE) == {
            "title": "Sayings",
            "price": 8.95,
        }
        assert select("$.store.book[0:2]['title','price']", STORE) == [
            {"title": "Sayings", "price": 8.95},
            {"title": "Sword", "price": 12.99},
        ]


class TestFilters:
    @pytest.mark.parametrize(
        ("condition", "titles_or_authors"),
        [
            ("@.isbn", ["Herman Melville", "J. R. R. Tolkien"]),
            ("!@.isbn", ["Nigel Rees", "Evelyn Waugh"]),
            ("@.price < 10", ["Nigel Rees", "Herman Melville"]),
            ("@.price <= $.expensive", ["Nigel Rees", "Herman Melville"]),
            ("@.price>=22.99", ["J. R. R. Tolkien"]),
            ("@.category == 'reference'", ["Nigel Rees"]),
            ('@.category != "fiction"', ["Nigel Rees"]),
            ("@.category == 'fiction' && @.price < 10", ["Herman Melville"]),
            ("@.price > 20 || @.category == 'reference'", ["Nigel Rees", "J. R. R. Tolkien"]),
            ("(@.price > 20 || @.price < 9) && !@.isbn", ["Nigel Rees"]),
            ("@.author =~ /.*REES/i", ["Nigel Rees"]),
            ("@.author =~ /Rees/", []),
            ("@.isbn in ['0-553', 'x']", ["Herman Melville"]),
            ("@.isbn nin ['0-553']", ["J. R. R. Tolkien"]),
            ("@.author size 10", ["Nigel Rees"]),
            ("@.author contains 'R. R.'", ["J. R. R. Tolkien"]),
        ],
    )
    def test_conditions(self, condition: str, titles_or_authors: list[str]) -> None:
        assert select(f"$.store.book[?({condition})].author", STORE) == titles_or_authors

    def test_a_comparison_with_a_missing_operand_is_false_whatever_the_operator(self) -> None:
        assert select("$.store.book[?(@.isbn != '0-553')].author", STORE) == ["J. R. R. Tolkien"]

    def test_equality_treats_numeric_strings_as_numbers_but_not_booleans(self) -> None:
        data = [{"v": 1}, {"v": "1"}, {"v": True}, {"v": 1.0}, {"v": "one"}, {"v": " 1"}]
        assert select("$[?(@.v == 1)].v", data) == [1, "1", 1.0]
        assert select("$[?(@.v === 1)].v", data) == [1, 1.0]

    def test_ordering_compares_only_numbers_with_numbers_and_strings_with_strings(self) -> None:
        data = [{"v": 2}, {"v": "b"}, {"v": None}, {"v": "2"}]
        assert select("$[?(@.v > 1)].v", data) == [2]
        assert select("$[?(@.v > 'a')].v", data) == ["b"]

    def test_array_operators(self) -> None:
        data = [{"tags": ["a", "b"]}, {"tags": ["c"]}, {"tags": []}]
        assert select("$[?(@.tags subsetof ['a', 'b', 'x'])].tags", data) == [["a", "b"], []]
        assert select("$[?(@.tags anyof ['b', 'c'])].tags", data) == [["a", "b"], ["c"]]
        assert select("$[?(@.tags noneof ['a'])].tags", data) == [["c"], []]
        assert select("$[?(@.tags empty true)].tags", data) == [[]]
        assert select("$[?(@.tags contains 'c')].tags", data) == [["c"]]

    def test_current_item_and_scalars(self) -> None:
        assert select("$.n[?(@ > 2)]", {"n": [1, 2, 3, 4]}) == [3, 4]

    def test_a_filter_on_an_object_tests_the_object_itself(self) -> None:
        assert select("$.store.bicycle[?(@.color == 'red')].price", STORE) == [19.95]

    def test_a_filter_after_descent_tests_every_object(self) -> None:
        found = select("$..[?(@.price > 19)]", STORE)
        assert [item.get("author", item.get("color")) for item in found] == [
            "J. R. R. Tolkien",
            "red",
        ]


class TestFunctions:
    @pytest.mark.parametrize(
        ("path", "expected"),
        [
            ("$.store.book.length()", 4),
            ("$.store.bicycle.length()", 2),
            ("$.store.bicycle.keys()", ["color", "price"]),
            ("$.store.book[*].price.min()", 8.95),
            ("$.store.book[*].price.max()", 22.99),
            ("$.store.book[*].price.sum()", pytest.approx(53.92)),
            ("$.store.book[*].price.avg()", pytest.approx(13.48)),
            ("$.store.book[*].author.first()", "Nigel Rees"),
            ("$.store.book[*].author.last()", "J. R. R. Tolkien"),
            ("$.store.book[?(@.isbn)].length()", 2),
        ],
    )
    def test_functions(self, path: str, expected: Any) -> None:
        assert select(path, STORE) == expected

    def test_a_function_on_something_it_cannot_measure_matches_nothing(self) -> None:
        with pytest.raises(PathNotFound, match=r"length\(\) cannot be applied to number"):
            select("$.expensive.length()", STORE)


class TestVariablesAndContext:
    def test_a_variable_path_reads_the_variable(self) -> None:
        variables = {"order": {"items": [{"sku": "a"}]}, "count": 3}
        assert select("$count", {}, variables=variables) == 3
        assert select("$order.items[0].sku", {}, variables=variables) == "a"
        assert select("$order['items'][*].sku", {}, variables=variables) == ["a"]

    def test_an_unknown_variable_matches_nothing(self) -> None:
        with pytest.raises(PathNotFound, match="there is no variable named 'nope'"):
            select("$nope.a", {"nope": 1}, variables={"other": 1})
        with pytest.raises(PathNotFound):
            select("$nope", {})

    def test_select_with_context_routes_each_root(self) -> None:
        data = {"who": "data"}
        context = {"Execution": {"Id": "exec-1"}, "who": "context"}
        variables = {"who": "variable"}
        assert select_with_context("$.who", data, context, variables) == "data"
        assert select_with_context("$$.who", data, context, variables) == "context"
        assert select_with_context("$$.Execution.Id", data, context) == "exec-1"
        assert select_with_context("$who", data, context, variables) == "variable"
        assert select_with_context("$$", data, context) is context
        assert select_with_context("$", data, context) is data

    def test_select_reads_a_context_path_from_the_data_it_is_given(self) -> None:
        assert select("$$.Execution.Id", {"Execution": {"Id": "exec-1"}}) == "exec-1"


class TestValidation:
    @pytest.mark.parametrize(
        "path",
        [
            "$",
            "$$",
            "$.a.b",
            "$.error-info",
            "$['a b'].c",
            "$.a[0][1]",
            "$myVar",
            "$my_var.a[0]",
            "$$.Map.Item.Value",
            # The examples of reference paths in the Amazon States Language specification.
            "$.store.book",
            "$.store\\.book",
            "$.\\stor\\e.boo\\k",
            "$.store.book.title",
            "$.foo.\\.bar",
            "$.foo\\@bar.baz\\[\\[.\\?pretty",
            "$.&Ж中.\U00010346",
            "$.ledgers.branch[0].pending.count",
            "$.ledgers.branch[0]",
            "$.ledgers[0][22][315].foo",
            "$['store']['book']",
            "$['store'][0]['book']",
        ],
    )
    def test_reference_paths(self, path: str) -> None:
        assert path_error(path) is None
        assert is_valid_path(path)
        assert is_reference_path(path)

    @pytest.mark.parametrize(
        "path",
        [
            "$..a",
            "$.a[*]",
            "$.a.*",
            "$.a[0,1]",
            "$.a[1:2]",
            "$.a[?(@.x)]",
            "$.a.length()",
            "$['a','b']",
        ],
    )
    def test_valid_paths_that_are_not_reference_paths(self, path: str) -> None:
        assert is_valid_path(path)
        assert not is_reference_path(path)

    @pytest.mark.parametrize(
        ("path", "reason"),
        [
            ("", "a path must start with '$'"),
            ("a.b", "a path must start with '$'"),
            ("$.", "expected a name after '.'"),
            ("$.a b", "use bracket notation ['my name'] for a name with blanks"),
            ("$[", "expected a quoted name, an index, a slice"),
            ("$['a'", "expected ']' but found the end"),
            ("$['a]", "unterminated string"),
            ("$[1:2:3]", "a step is not supported"),
            ("$[a]", "expected a quoted name, an index, a slice"),
            ("$[1,x]", "'x' is not an integer index"),
            ("$.a.nope()", "unknown function nope()"),
            ("$.a.length().b", "a function such as length() must be the last step"),
            ("$.a[?(@.b ==)]", "expected a path, a string, a number"),
            ("$.a[?(@.b == /x/)]", "expected a path, a string, a number"),
            ("$.a[?(@.b =~ /x)]", "unterminated regular expression"),
            ("$.a[?(@.b > $$.c)]", "the context object '$$' cannot be used inside a filter"),
            ("$my-var", "'my-var' is not a valid variable name"),
            ("$['a']x", "unexpected 'x'"),
            ("$.a\\", "a backslash must escape a character"),
        ],
    )
    def test_invalid_paths_say_why(self, path: str, reason: str) -> None:
        message = path_error(path)
        assert message is not None and reason in message
        assert not is_valid_path(path)
        assert not is_reference_path(path)

    def test_a_path_that_is_not_a_string_is_invalid(self) -> None:
        assert path_error(12) == "a path must be a string, got number"  # type: ignore[arg-type]
        assert not is_reference_path(None)  # type: ignore[arg-type]


class TestResultPath:
    DOCS_INPUT: dict[str, Any] = {
        "comment": "This is a test of the input and output of a Task state.",
        "details": "Default example",
        "who": "AWS Step Functions",
    }

    def test_a_path_adds_the_result_to_the_input(self) -> None:
        output = apply_result_path(self.DOCS_INPUT, "Hello, AWS Step Functions!", "$.taskresult")
        assert output == {**self.DOCS_INPUT, "taskresult": "Hello, AWS Step Functions!"}

    def test_dollar_replaces_the_input_with_the_result(self) -> None:
        assert apply_result_path(self.DOCS_INPUT, {"r": 1}, "$") == {"r": 1}

    def test_null_discards_the_result(self) -> None:
        assert apply_result_path(self.DOCS_INPUT, "ignored", None) == self.DOCS_INPUT

    def test_an_existing_field_is_overwritten(self) -> None:
        assert apply_result_path(self.DOCS_INPUT, "new", "$.who")["who"] == "new"

    def test_missing_objects_on_the_way_are_created(self) -> None:
        assert apply_result_path({"a": 1}, 2, "$.x.y['z z']") == {"a": 1, "x": {"y": {"z z": 2}}}

    def test_an_index_replaces_an_array_element(self) -> None:
        data = {"items": [{"n": 1}, {"n": 2}]}
        assert apply_result_path(data, 9, "$.items[1].n") == {"items": [{"n": 1}, {"n": 9}]}
        assert apply_result_path(data, "x", "$.items[-1]") == {"items": [{"n": 1}, "x"]}

    def test_the_input_is_untouched_and_only_the_path_is_copied(self) -> None:
        data = {"a": {"b": [1, 2]}, "z": {"k": 1}}
        original = copy.deepcopy(data)
        output = apply_result_path(data, {"r": 1}, "$.a.c")
        assert data == original
        assert output == {"a": {"b": [1, 2], "c": {"r": 1}}, "z": {"k": 1}}
        assert output is not data and output["a"] is not data["a"]
        # The rest is shared: the engine never changes a JSON value in place.
        assert output["z"] is data["z"] and output["a"]["b"] is data["a"]["b"]

    @pytest.mark.parametrize(
        ("state_input", "result_path", "cause"),
        [
            (
                "input1",
                "$.taskResult",
                'Unable to apply ReferencePath $.taskResult to input "input1"',
            ),
            ([1, 2], "$.x", "Unable to apply ReferencePath $.x to input [1,2]"),
            (None, "$.x", "Unable to apply ReferencePath $.x to input null"),
            ({"a": 5}, "$.a.b", 'Unable to apply ReferencePath $.a.b to input {"a":5}'),
            ({"a": None}, "$.a.b", 'Unable to apply ReferencePath $.a.b to input {"a":null}'),
            ({"a": [1]}, "$.a[1]", 'Unable to apply ReferencePath $.a[1] to input {"a":[1]}'),
            ({"a": {}}, "$.a[0]", 'Unable to apply ReferencePath $.a[0] to input {"a":{}}'),
        ],
    )
    def test_a_result_that_cannot_be_placed_fails(
        self, state_input: Any, result_path: str, cause: str
    ) -> None:
        with pytest.raises(StatesError) as caught:
            apply_result_path(state_input, "r", result_path)
        assert caught.value.error == errors.RESULT_PATH_MATCH_FAILURE
        assert caught.value.cause == cause

    @pytest.mark.parametrize(
        ("result_path", "reason"),
        [
            ("$.", "is not a valid path"),
            ("$$.Execution", "must be a reference path into the state's data"),
            ("$var.x", "must be a reference path into the state's data"),
            ("$.a[*]", "must be a reference path into the state's data"),
        ],
    )
    def test_a_result_path_that_is_not_a_data_reference_path_is_a_runtime_error(
        self, result_path: str, reason: str
    ) -> None:
        with pytest.raises(StatesError) as caught:
            apply_result_path({}, "r", result_path)
        assert caught.value.error == errors.RUNTIME
        assert reason in caught.value.cause


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=10,
)
KEYS = st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4)


def _bracket_path(keys: list[str]) -> str:
    return "$" + "".join(
        "['" + key.replace("\\", "\\\\").replace("'", "\\'") + "']" for key in keys
    )


class TestProperties:
    @given(
        state_input=st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=4),
        keys=KEYS,
        result=JSON_VALUES,
    )
    def test_select_gives_back_what_apply_result_path_placed(
        self, state_input: dict[str, Any], keys: list[str], result: Any
    ) -> None:
        path = _bracket_path(keys)
        original = copy.deepcopy(state_input)
        try:
            output = apply_result_path(state_input, result, path)
        except StatesError as error:
            assert error.error == errors.RESULT_PATH_MATCH_FAILURE  # a step met a non-object
            return
        assert select(path, output) == result
        assert state_input == original

    @given(keys=KEYS, leaf=JSON_SCALARS)
    def test_select_follows_the_keys_it_names(self, keys: list[str], leaf: Any) -> None:
        document: Any = leaf
        for key in reversed(keys):
            document = {key: document}
        assert select(_bracket_path(keys), document) == leaf
        assert is_reference_path(_bracket_path(keys))
