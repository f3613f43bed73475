"""Top-level fields of a definition and the shape of its States."""

from __future__ import annotations

from typing import Any

import pytest

from .definitions import PASS_END, machine, one_state, only_problem, problems


def test_a_minimal_machine_is_valid() -> None:
    assert problems(one_state(PASS_END)) == []


def test_every_documented_top_level_field_is_accepted() -> None:
    definition = one_state(
        PASS_END, Comment="c", Version="1.0", TimeoutSeconds=60, QueryLanguage="JSONPath"
    )
    assert problems(definition) == []


def test_start_at_is_required() -> None:
    assert only_problem({"States": {"A": PASS_END}}) == (
        "$",
        "required field 'StartAt' is missing",
    )


def test_start_at_must_name_an_existing_state() -> None:
    assert only_problem(machine({"A": PASS_END}, start="B")) == (
        "$.StartAt",
        "state 'B' does not exist in States",
    )


def test_start_at_must_be_a_string() -> None:
    location, message = only_problem(machine({"A": PASS_END}, start=["A"]))  # type: ignore[arg-type]
    assert location == "$.StartAt"
    assert "must be a string" in message


def test_states_is_required() -> None:
    assert only_problem({"StartAt": "A"}) == ("$", "required field 'States' is missing")


def test_states_must_be_an_object() -> None:
    location, message = only_problem({"StartAt": "A", "States": [PASS_END]})
    assert location == "$.States"
    assert "must be a JSON object" in message


def test_states_must_not_be_empty() -> None:
    found = problems({"StartAt": "A", "States": {}})
    assert ("$.States", "must hold at least one state") in found


def test_unknown_top_level_fields_are_errors() -> None:
    assert only_problem(one_state(PASS_END, Timeout=5)) == (
        "$.Timeout",
        "unknown field 'Timeout' at the top level of a definition",
    )


@pytest.mark.parametrize("timeout", [0, -5, 100_000_000, 1.5, "60", True, None])
def test_timeout_seconds_must_be_a_positive_integer(timeout: Any) -> None:
    location, message = only_problem(one_state(PASS_END, TimeoutSeconds=timeout))
    assert location == "$.TimeoutSeconds"
    assert "must be an integer from 1 to 99999999" in message


@pytest.mark.parametrize("language", ["JSONPATH", "jsonata", "Python", 1])
def test_query_language_must_be_jsonpath_or_jsonata(language: Any) -> None:
    location, message = only_problem(one_state(PASS_END, QueryLanguage=language))
    assert location == "$.QueryLanguage"
    assert "must be one of 'JSONPath', 'JSONata'" in message


def test_version_must_be_1_0() -> None:
    location, _ = only_problem(one_state(PASS_END, Version="2.0"))
    assert location == "$.Version"


def test_comment_must_be_a_string() -> None:
    location, message = only_problem(one_state(PASS_END, Comment=["no"]))
    assert (location, message) == ("$.Comment", 'must be a string, got array ["no"]')


def test_a_state_must_be_an_object() -> None:
    location, message = only_problem(machine({"A": "Pass"}))
    assert location == "$.States.A"
    assert message == 'a state must be a JSON object, got string "Pass"'


def test_state_names_are_at_most_80_characters() -> None:
    name = "N" * 81
    assert only_problem(machine({name: PASS_END}, start=name)) == (
        f"$.States.{name}",
        "state name is 81 characters long; at most 80",
    )
    assert problems(machine({name[:80]: PASS_END}, start=name[:80])) == []


def test_state_names_must_not_be_empty() -> None:
    found = problems(machine({"": PASS_END}, start=""))
    assert ("$.States['']", "a state name must not be empty") in found
