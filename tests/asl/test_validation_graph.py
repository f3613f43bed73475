"""Transitions: targets exist in the same scope, every state is reached, every path can end,
and state names are unique across the whole machine."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation import validate

from .definitions import PASS_END, machine, one_state, only_problem, problems


def _branch(states: dict[str, Any], start: str) -> dict[str, Any]:
    return {"StartAt": start, "States": states}


def test_next_must_name_an_existing_state() -> None:
    definition = machine({"Call API": {"Type": "Pass", "Next": "Nope"}}, start="Call API")
    [error] = validate(definition)
    assert str(error) == (
        "$.States['Call API'].Next: state 'Nope' does not exist (state 'Call API')"
    )


def test_choice_targets_and_default_must_exist() -> None:
    choice = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Gone"}],
        "Default": "Missing",
    }
    assert problems(one_state(choice)) == [
        ("$.States.A.Choices[0].Next", "state 'Gone' does not exist"),
        ("$.States.A.Default", "state 'Missing' does not exist"),
    ]


def test_a_choice_rule_needs_next() -> None:
    choice = {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True}], "Default": "B"}
    assert only_problem(machine({"A": choice, "B": PASS_END})) == (
        "$.States.A.Choices[0]",
        "required field 'Next' is missing: a Choice rule must name the state to go to",
    )


def test_every_state_must_be_reachable_from_start_at() -> None:
    definition = machine({"A": PASS_END, "Orphan": PASS_END})
    assert only_problem(definition) == (
        "$.States.Orphan",
        "state 'Orphan' is never reached from StartAt 'A': no Next, Default, Choices or Catch"
        " leads to it",
    )


def test_states_reached_only_through_catch_or_default_count_as_reached() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                "Next": "Pick",
            },
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Failed",
            },
            "Done": {"Type": "Succeed"},
            "Failed": {"Type": "Fail"},
        }
    )
    assert problems(definition) == []


def test_a_loop_with_an_exit_is_valid() -> None:
    definition = machine(
        {
            "A": {"Type": "Wait", "Seconds": 1, "Next": "Check"},
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.done", "BooleanEquals": True, "Next": "Done"}],
                "Default": "A",
            },
            "Done": {"Type": "Succeed"},
        }
    )
    assert problems(definition) == []


def test_a_machine_without_any_terminal_state_is_refused() -> None:
    definition = machine({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}})
    assert only_problem(definition) == (
        "$.States",
        "no state ends this scope: at least one state must be a Succeed or Fail state or have"
        " End: true",
    )


def test_states_stuck_in_a_loop_without_exit_are_reported() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.go", "BooleanEquals": True, "Next": "Spin"}],
                "Default": "Done",
            },
            "Spin": {"Type": "Pass", "Next": "Again"},
            "Again": {"Type": "Pass", "Next": "Spin"},
            "Done": {"Type": "Succeed"},
        }
    )
    assert problems(definition) == [
        ("$.States.Again", _loops("Again")),
        ("$.States.Spin", _loops("Spin")),
    ]


def test_a_catch_is_a_way_out_of_a_loop() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}],
                "Next": "A",
            },
            "Stop": {"Type": "Fail"},
        }
    )
    assert problems(definition) == []


def test_a_branch_cannot_transition_to_a_state_outside_it() -> None:
    definition = machine(
        {
            "A": {
                "Type": "Parallel",
                "Branches": [_branch({"B": {"Type": "Pass", "Next": "Out"}}, "B")],
                "Next": "Out",
            },
            "Out": PASS_END,
        }
    )
    location, message = only_problem(definition)
    assert location == "$.States.A.Branches[0].States.B.Next"
    assert message.startswith("state 'Out' is not in this scope (it is at $.States.Out)")


def test_the_outer_machine_cannot_transition_into_a_branch() -> None:
    definition = machine(
        {
            "A": {"Type": "Pass", "Next": "Inner"},
            "P": {
                "Type": "Parallel",
                "Branches": [_branch({"Inner": PASS_END}, "Inner")],
                "End": True,
            },
        }
    )
    found = problems(definition)
    assert found[0][0] == "$.States.A.Next"
    assert "not in this scope" in found[0][1]


def test_each_branch_is_checked_as_its_own_scope() -> None:
    branch = _branch({"B": PASS_END, "Lost": PASS_END}, "B")
    definition = one_state({"Type": "Parallel", "Branches": [branch], "End": True})
    location, message = only_problem(definition)
    assert location == "$.States.A.Branches[0].States.Lost"
    assert "never reached from StartAt 'B'" in message


def test_state_names_are_unique_across_branches() -> None:
    definition = one_state(
        {
            "Type": "Parallel",
            "Branches": [_branch({"Step": PASS_END}, "Step"), _branch({"Step": PASS_END}, "Step")],
            "End": True,
        }
    )
    assert only_problem(definition) == (
        "$.States.A.Branches[1].States.Step",
        "state name 'Step' is already used at $.States.A.Branches[0].States.Step; names must be"
        " unique across the whole machine, branches and Map processors included",
    )


def test_state_names_are_unique_between_the_machine_and_a_map_processor() -> None:
    definition = one_state(
        {"Type": "Map", "ItemProcessor": {"StartAt": "A", "States": {"A": PASS_END}}, "End": True}
    )
    location, message = only_problem(definition)
    assert location == "$.States.A.ItemProcessor.States.A"
    assert "already used at $.States.A" in message


def _loops(name: str) -> str:
    return (
        f"no path from state {name!r} reaches an end (a Succeed or Fail state, or End: true);"
        " an execution there would loop forever"
    )
