"""Workflow variables: Assign stores values that later states read as $name.

From the Step Functions guide ("Passing data between states with variables"): a state's
assignments take effect when it exits, so every expression in the same state, the other
assignments included, sees the values from before (assignment is simultaneous); states
in a Parallel branch or Map iteration read the variables of the scopes around them, and
what they assign stays inside their branch or iteration.
"""

from __future__ import annotations

from typing import Any

from tests.engine.support import details, lambda_task, machine, of_type, run


def test_assign_in_jsonpath_then_read_in_a_later_state() -> None:
    definition = machine(
        {
            "Remember": {
                "Type": "Pass",
                "Assign": {"customer.$": "$.customer", "tier": "gold"},
                "Next": "Use",
            },
            "Use": {"Type": "Pass", "Result": "ignored", "Next": "Read"},
            "Read": {
                "Type": "Pass",
                "Parameters": {"who.$": "$customer", "tier.$": "$tier"},
                "End": True,
            },
        }
    )
    local = run(definition, {"customer": "c-1"})
    assert local.execution.output == {"who": "c-1", "tier": "gold"}
    exited = details(of_type(local.history, "PassStateExited")[0])
    assert exited["assignedVariables"] == {"customer": "c-1", "tier": "gold"}


def test_a_task_assigns_from_its_result() -> None:
    definition = machine(
        {
            "Charge": lambda_task(
                "charge", Assign={"paymentId.$": "$.id"}, ResultPath=None, Next="Read"
            ),
            "Read": {
                "Type": "Pass",
                "Parameters": {"payment.$": "$paymentId", "input.$": "$"},
                "End": True,
            },
        }
    )
    local = run(definition, {"amount": 5}, {"charge": lambda event, context: {"id": "pay_1"}})
    assert local.execution.output == {"payment": "pay_1", "input": {"amount": 5}}


def test_jsonpath_assignments_are_simultaneous() -> None:
    definition = machine(
        {
            "Start": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
            "Swap": {"Type": "Pass", "Assign": {"a.$": "$b", "b.$": "$a"}, "Next": "Read"},
            "Read": {"Type": "Pass", "Parameters": {"a.$": "$a", "b.$": "$b"}, "End": True},
        }
    )
    assert run(definition).execution.output == {"a": 2, "b": 1}


def test_jsonata_assignments_are_simultaneous_and_output_sees_the_old_values() -> None:
    definition = machine(
        {
            "Start": {"Type": "Pass", "Assign": {"a": 1, "b": 2}, "Next": "Swap"},
            "Swap": {
                "Type": "Pass",
                "Assign": {"a": "{% $b %}", "b": "{% $a %}", "sum": "{% $a + $b %}"},
                "Output": {"a": "{% $a %}", "b": "{% $b %}"},
                "Next": "Read",
            },
            "Read": {
                "Type": "Pass",
                "Output": {
                    "before": "{% $states.input %}",
                    "after": ["{% $a %}", "{% $b %}", "{% $sum %}"],
                },
                "End": True,
            },
        },
        QueryLanguage="JSONata",
    )
    assert run(definition).execution.output == {"before": {"a": 1, "b": 2}, "after": [2, 1, 3]}


def test_a_variable_keeps_its_value_until_reassigned() -> None:
    definition = machine(
        {
            "Count": {"Type": "Pass", "Assign": {"n": 0}, "Next": "Loop"},
            "Loop": {
                "Type": "Choice",
                "Choices": [{"Variable": "$n", "NumericLessThan": 3, "Next": "Bump"}],
                "Default": "Done",
            },
            "Bump": {"Type": "Pass", "Assign": {"n.$": "States.MathAdd($n, 1)"}, "Next": "Loop"},
            "Done": {"Type": "Pass", "Parameters": {"n.$": "$n"}, "End": True},
        }
    )
    assert run(definition).execution.output == {"n": 3}


def test_map_iterations_read_the_variables_around_them() -> None:
    definition = machine(
        {
            "Set": {"Type": "Pass", "Assign": {"rate": 3}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Scale",
                    "States": {
                        "Scale": {
                            "Type": "Pass",
                            "Parameters": {"v.$": "States.MathAdd($, $rate)"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        }
    )
    assert run(definition, [1, 2]).execution.output == [{"v": 4}, {"v": 5}]


def test_item_selector_reads_variables() -> None:
    definition = machine(
        {
            "Set": {"Type": "Pass", "Assign": {"tag": "t"}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemSelector": {"tag.$": "$tag", "item.$": "$$.Map.Item.Value"},
                "ItemProcessor": {
                    "StartAt": "Same",
                    "States": {"Same": {"Type": "Pass", "End": True}},
                },
                "End": True,
            },
        }
    )
    assert run(definition, [1]).execution.output == [{"tag": "t", "item": 1}]


def test_what_an_iteration_assigns_stays_in_the_iteration() -> None:
    definition = machine(
        {
            "Set": {"Type": "Pass", "Assign": {"total": 0}, "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Local",
                    "States": {
                        "Local": {"Type": "Pass", "Assign": {"mine.$": "$"}, "Next": "Read"},
                        "Read": {
                            "Type": "Pass",
                            "Parameters": {"mine.$": "$mine", "total.$": "$total"},
                            "End": True,
                        },
                    },
                },
                "Next": "After",
            },
            "After": {
                "Type": "Pass",
                "Parameters": {"total.$": "$total", "out.$": "$"},
                "End": True,
            },
        }
    )
    local = run(definition, ["a", "b"])
    assert local.execution.output == {
        "total": 0,
        "out": [{"mine": "a", "total": 0}, {"mine": "b", "total": 0}],
    }
    assert local.execution.state.frames == {}


def test_parallel_branches_read_outer_variables_and_assign_their_own() -> None:
    definition = machine(
        {
            "Set": {
                "Type": "Pass",
                "Assign": {"base": 10},
                "QueryLanguage": "JSONata",
                "Next": "Both",
            },
            "Both": {
                "Type": "Parallel",
                "QueryLanguage": "JSONata",
                "Branches": [
                    {
                        "StartAt": "Left",
                        "States": {
                            "Left": {
                                "Type": "Pass",
                                "Assign": {"side": "left"},
                                "Next": "Left read",
                            },
                            "Left read": {
                                "Type": "Pass",
                                "Output": "{% $side & ':' & $string($base) %}",
                                "End": True,
                            },
                        },
                    },
                    {
                        "StartAt": "Right",
                        "States": {
                            "Right": {
                                "Type": "Pass",
                                "Assign": {"side": "right"},
                                "Next": "Right read",
                            },
                            "Right read": {
                                "Type": "Pass",
                                "Output": "{% $side & ':' & $string($base + 1) %}",
                                "End": True,
                            },
                        },
                    },
                ],
                "Assign": {"both": "{% $states.result %}"},
                "Next": "Read",
            },
            "Read": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": "{% $both %}",
                "End": True,
            },
        }
    )
    assert run(definition).execution.output == ["left:10", "right:11"]


def test_a_choice_rule_assigns_when_it_is_taken() -> None:
    definition = machine(
        {
            "Route": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.n",
                        "NumericGreaterThan": 0,
                        "Next": "Read",
                        "Assign": {"route": "positive"},
                    }
                ],
                "Default": "Read",
                "Assign": {"route": "default"},
            },
            "Read": {"Type": "Pass", "Parameters": {"route.$": "$route"}, "End": True},
        }
    )
    assert run(definition, {"n": 1}).execution.output == {"route": "positive"}
    assert run(definition, {"n": -1}).execution.output == {"route": "default"}


def test_variables_survive_a_wait_and_a_retry() -> None:
    calls: list[Any] = []

    def flaky(event: Any, context: Any) -> Any:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("once")
        return event

    definition = machine(
        {
            "Set": {"Type": "Pass", "Assign": {"id": "x-1"}, "Next": "Nap"},
            "Nap": {"Type": "Wait", "Seconds": 30, "Next": "Call"},
            "Call": lambda_task(
                "flaky",
                Parameters={"id.$": "$id"},
                Retry=[{"ErrorEquals": ["States.ALL"]}],
                End=True,
            ),
        }
    )
    assert run(definition, {}, {"flaky": flaky}).execution.output == {"id": "x-1"}
    assert calls == [{"id": "x-1"}, {"id": "x-1"}]
