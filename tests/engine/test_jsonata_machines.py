"""JSONata machines end to end: QueryLanguage at the top or per state, Arguments and Output,
Assign, Condition, Map's Items, and $states.input / result / errorOutput / context.

From the Step Functions guide ("Transforming data with JSONata"): a JSONata state takes
its raw input as $states.input; Arguments is what its work gets (the input when absent);
Output is what it passes on (the result, $states.result, when absent; a Pass or Wait
passes its input on); a Catch's Output sees the error as $states.errorOutput (and defaults
to it); an expression that fails or yields nothing is States.QueryEvaluationError.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from stepstream.asl.machine import load_machine
from stepstream.asl.validation import InvalidDefinition
from tests.engine.support import Inbox, details, entered, machine, of_type, run, runner

INVOKE = "arn:aws:states:::lambda:invoke"


def jsonata(states: dict[str, Any], **top: Any) -> dict[str, Any]:
    return machine(states, QueryLanguage="JSONata", **top)


def invoke(function: str, payload: Any = "{% $states.input %}", **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Arguments": {"FunctionName": function, "Payload": payload},
        **fields,
    }


def price(event: Any, context: Any) -> Any:
    return {"sku": event["sku"], "cents": 100 * event["qty"]}


class OutOfStock(Exception):
    pass


def out_of_stock(event: Any, context: Any) -> Any:
    raise OutOfStock("none left")


FUNCTIONS = {"price": price, "out_of_stock": out_of_stock}


def run_jsonata(states: dict[str, Any], execution_input: Any, **top: Any) -> LocalRunner:
    return run(jsonata(states, **top), execution_input, FUNCTIONS)


def test_pass_output_transforms_the_input() -> None:
    local = run_jsonata(
        {
            "Shape": {
                "Type": "Pass",
                "Output": {"total": "{% $sum($states.input.lines) %}"},
                "End": True,
            }
        },
        {"lines": [1, 2, 3]},
    )
    assert local.execution.output == {"total": 6}


def test_a_pass_without_output_passes_its_input_on() -> None:
    assert run_jsonata({"Same": {"Type": "Pass", "End": True}}, {"a": 1}).execution.output == {
        "a": 1
    }


def test_a_task_without_output_passes_the_whole_result_on() -> None:
    local = run_jsonata({"Price": invoke("price", End=True)}, {"sku": "A", "qty": 2})
    assert local.execution.output["Payload"] == {"sku": "A", "cents": 200}
    assert local.execution.output["StatusCode"] == 200


def test_arguments_build_the_request_and_output_reads_the_result() -> None:
    state = invoke(
        "price",
        payload={"sku": "{% $uppercase($states.input.item) %}", "qty": "{% $states.input.count %}"},
        Output={"line": "{% $states.result.Payload %}", "for": "{% $states.input.customer %}"},
        End=True,
    )
    local = run_jsonata({"Price": state}, {"item": "a", "count": 3, "customer": "c-1"})
    assert local.execution.output == {"line": {"sku": "A", "cents": 300}, "for": "c-1"}
    scheduled = details(of_type(local.history, "TaskScheduled")[0])
    assert scheduled["parameters"] == {"FunctionName": "price", "Payload": {"sku": "A", "qty": 3}}


def test_the_context_is_states_context() -> None:
    state = {
        "Type": "Pass",
        "Output": {
            "state": "{% $states.context.State.Name %}",
            "execution": "{% $states.context.Execution.Id %}",
            "input": "{% $states.context.Execution.Input %}",
        },
        "End": True,
    }
    local = run_jsonata({"Look": state}, {"k": 1})
    assert local.execution.output == {
        "state": "Look",
        "execution": local.execution.state.execution_arn,
        "input": {"k": 1},
    }


def test_choice_condition_and_default() -> None:
    states = {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Condition": "{% $states.input.total > 100 %}", "Next": "Review"},
                {"Condition": "{% 'rush' in $states.input.tags %}", "Next": "Rush"},
            ],
            "Default": "Ship",
        },
        "Review": {"Type": "Pass", "End": True},
        "Rush": {"Type": "Pass", "End": True},
        "Ship": {"Type": "Pass", "End": True},
    }
    route = {
        "big": ({"total": 500, "tags": []}, "Review"),
        "rush": ({"total": 5, "tags": ["rush"]}, "Rush"),
        "plain": ({"total": 5, "tags": []}, "Ship"),
    }
    for execution_input, way in route.values():
        assert entered(run_jsonata(states, execution_input).history)[-1] == way


def test_choice_output_and_assign_per_rule() -> None:
    states = {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {
                    "Condition": "{% $states.input.n > 0 %}",
                    "Next": "Done",
                    "Output": {"sign": "positive"},
                    "Assign": {"seen": "{% $states.input.n %}"},
                }
            ],
            "Default": "Done",
        },
        "Done": {
            "Type": "Pass",
            "Output": "{% $merge([$states.input, {'seen': $seen}]) %}",
            "End": True,
        },
    }
    assert run_jsonata(states, {"n": 4}).execution.output == {"sign": "positive", "seen": 4}


def test_map_items_and_item_selector() -> None:
    states = {
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.orders[qty > 0] %}",
            "ItemSelector": {
                "sku": "{% $states.context.Map.Item.Value.sku %}",
                "qty": "{% $states.context.Map.Item.Value.qty %}",
                "position": "{% $states.context.Map.Item.Index %}",
            },
            "ItemProcessor": {
                "StartAt": "Price",
                "States": {
                    "Price": invoke(
                        "price",
                        Output="{% $merge([$states.result.Payload,"
                        " {'position': $states.input.position}]) %}",
                        End=True,
                    )
                },
            },
            "Output": "{% $states.result %}",
            "End": True,
        }
    }
    orders = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 0}, {"sku": "C", "qty": 2}]
    local = run_jsonata(states, {"orders": orders})
    assert local.execution.output == [
        {"sku": "A", "cents": 100, "position": 0},
        {"sku": "C", "cents": 200, "position": 1},
    ]


def test_map_max_concurrency_from_an_expression() -> None:
    inbox = Inbox()
    states = {
        "Each": {
            "Type": "Map",
            "Items": "{% $states.input.items %}",
            "MaxConcurrency": "{% $states.input.limit %}",
            "ItemProcessor": {
                "StartAt": "Ask",
                "States": {
                    "Ask": {
                        "Type": "Task",
                        "Resource": f"{INVOKE}.waitForTaskToken",
                        "Arguments": {
                            "FunctionName": "publish",
                            "Payload": {
                                "token": "{% $states.context.Task.Token %}",
                                "input": "{% $states.input %}",
                            },
                        },
                        "End": True,
                    }
                },
            },
            "End": True,
        }
    }
    local = runner(jsonata(states), {"publish": inbox})
    local.run({"items": [1, 2, 3], "limit": 2})
    assert len(local.execution.pending_tasks()) == 2
    for item in (1, 2):
        local.send_task_success(inbox.token_for(item), item * 10)
    local.run_until_idle()
    local.send_task_success(inbox.token_for(3), 30)
    assert local.execution.output == [10, 20, 30]


def test_catch_output_sees_the_error_output() -> None:
    states = {
        "Reserve": invoke(
            "out_of_stock",
            Catch=[
                {
                    "ErrorEquals": ["OutOfStock"],
                    "Next": "Refund",
                    "Output": {
                        "order": "{% $states.input.order %}",
                        "why": "{% $states.errorOutput.Error %}",
                    },
                    "Assign": {"failedAt": "{% $states.context.State.Name %}"},
                }
            ],
            End=True,
        ),
        "Refund": {
            "Type": "Pass",
            "Output": "{% $merge([$states.input, {'at': $failedAt}]) %}",
            "End": True,
        },
    }
    local = run_jsonata(states, {"order": 7})
    assert local.execution.output == {"order": 7, "why": "OutOfStock", "at": "Reserve"}


def test_catch_without_output_passes_the_error_output() -> None:
    states = {
        "Reserve": invoke(
            "out_of_stock", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Refund"}], End=True
        ),
        "Refund": {"Type": "Pass", "End": True},
    }
    output = run_jsonata(states, {"order": 7}).execution.output
    assert set(output) == {"Error", "Cause"}
    assert output["Error"] == "OutOfStock"


def test_fail_error_and_cause_from_expressions() -> None:
    states = {
        "Stop": {
            "Type": "Fail",
            "Error": "{% $states.input.kind & 'Error' %}",
            "Cause": "{% 'order ' & $string($states.input.order) %}",
        }
    }
    local = run_jsonata(states, {"kind": "Payment", "order": 3})
    assert (local.execution.error, local.execution.cause) == ("PaymentError", "order 3")


def test_wait_seconds_from_an_expression() -> None:
    states = {"Nap": {"Type": "Wait", "Seconds": "{% $states.input.delay * 60 %}", "End": True}}
    local = run_jsonata(states, {"delay": 2})
    assert (local.history[-1].timestamp - local.history[0].timestamp).total_seconds() == 120
    assert local.execution.output == {"delay": 2}


def test_a_failing_expression_is_a_query_evaluation_error_and_can_be_caught() -> None:
    states = {
        "Shape": {
            "Type": "Pass",
            "Output": "{% $states.input.missing.deeper %}",
            "End": True,
        }
    }
    local = run_jsonata(states, {"present": 1})
    assert local.execution.error == "States.QueryEvaluationError"
    caught = {
        "Price": invoke(
            "price",
            payload="{% $error('bad payload') %}",
            Catch=[{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Handled"}],
            End=True,
        ),
        "Handled": {"Type": "Pass", "End": True},
    }
    local = run_jsonata(caught, {})
    assert entered(local.history) == ["Price", "Handled"]
    assert local.execution.output["Error"] == "States.QueryEvaluationError"


def test_query_language_per_state_mixes_with_jsonpath() -> None:
    definition = machine(
        {
            "Old": {"Type": "Pass", "Parameters": {"n.$": "$.value"}, "Next": "New"},
            "New": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Output": {"double": "{% $states.input.n * 2 %}"},
                "Next": "Old again",
            },
            "Old again": {"Type": "Pass", "InputPath": "$.double", "End": True},
        }
    )
    assert run(definition, {"value": 21}).execution.output == 42


def test_a_jsonata_machine_refuses_a_jsonpath_state() -> None:
    states = {
        "New": {"Type": "Pass", "Output": {"v": "{% $states.input.a %}"}, "Next": "Old"},
        "Old": {
            "Type": "Pass",
            "QueryLanguage": "JSONPath",
            "Parameters": {"w.$": "$.v"},
            "End": True,
        },
    }
    # AWS allows JSONata states in a JSONPath machine, not the other way round.
    with pytest.raises(InvalidDefinition, match="Old"):
        load_machine(jsonata(states))


def test_parallel_branches_and_output() -> None:
    states = {
        "Both": {
            "Type": "Parallel",
            "Arguments": {"n": "{% $states.input.n %}"},
            "Branches": [
                {
                    "StartAt": "Add",
                    "States": {
                        "Add": {"Type": "Pass", "Output": "{% $states.input.n + 1 %}", "End": True}
                    },
                },
                {
                    "StartAt": "Mul",
                    "States": {
                        "Mul": {"Type": "Pass", "Output": "{% $states.input.n * 10 %}", "End": True}
                    },
                },
            ],
            "Output": {"sum": "{% $sum($states.result) %}"},
            "End": True,
        }
    }
    assert run_jsonata(states, {"n": 2}).execution.output == {"sum": 23}
