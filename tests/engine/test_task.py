"""Task: request-response Lambda calls in both of AWS's forms, as the local binding serves them.

A Lambda function is a Python function `NAME(event, context)`. With the function's ARN as
the Resource the event is the effective input and the result is what the function
returned; with `arn:aws:states:::lambda:invoke` the event is Parameters' Payload and the
result is Lambda's Invoke response, the function's value under "Payload". An exception's
class name is the error name and the cause is Lambda's JSON error text.
"""

from __future__ import annotations

import json
from typing import Any

from tests.engine.support import (
    LAMBDA_ARN,
    details,
    invoke_task,
    lambda_task,
    machine,
    of_type,
    run,
    types,
)


class OutOfStock(Exception):
    pass


def echo(event: Any, context: Any) -> Any:
    return {"got": event}


def out_of_stock(event: Any, context: Any) -> Any:
    raise OutOfStock(f"sku {event['sku']} is gone")


def test_function_arn_form_passes_the_effective_input_and_returns_the_value() -> None:
    definition = machine({"T": lambda_task("echo", InputPath="$.order", End=True)})
    local = run(definition, {"order": {"sku": "A1"}, "noise": 1}, {"echo": echo})
    assert local.result()["output"] == {"got": {"sku": "A1"}}


def test_function_arn_form_records_lambda_function_events() -> None:
    definition = machine({"T": lambda_task("echo", End=True)})
    local = run(definition, {"a": 1}, {"echo": echo})
    assert types(local.history) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = details(of_type(local.history, "LambdaFunctionScheduled")[0])
    assert scheduled["resource"] == f"{LAMBDA_ARN}echo"
    assert scheduled["input"] == {"a": 1}
    assert details(of_type(local.history, "LambdaFunctionSucceeded")[0])["output"] == {
        "got": {"a": 1}
    }


def test_invoke_form_sends_the_payload_and_wraps_the_answer_as_lambda_does() -> None:
    definition = machine({"T": invoke_task("echo", "$.order", End=True)})
    local = run(definition, {"order": {"sku": "A1"}}, {"echo": echo})
    output = local.execution.output
    assert output["Payload"] == {"got": {"sku": "A1"}}
    assert output["StatusCode"] == 200
    assert output["ExecutedVersion"] == "$LATEST"


def test_invoke_form_records_task_events_with_the_service_and_action() -> None:
    definition = machine({"T": invoke_task("echo", End=True)})
    local = run(definition, {"a": 1}, {"echo": echo})
    assert types(local.history) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    scheduled = details(of_type(local.history, "TaskScheduled")[0])
    assert (scheduled["resourceType"], scheduled["resource"]) == ("lambda", "invoke")
    assert scheduled["parameters"] == {"FunctionName": "echo", "Payload": {"a": 1}}
    succeeded = details(of_type(local.history, "TaskSucceeded")[0])
    assert succeeded["output"]["Payload"] == {"got": {"a": 1}}


def test_result_selector_and_result_path_shape_the_invoke_answer() -> None:
    definition = machine(
        {
            "T": invoke_task(
                "echo",
                "$.order",
                ResultSelector={"answer.$": "$.Payload.got", "code.$": "$.StatusCode"},
                ResultPath="$.result",
                End=True,
            )
        }
    )
    local = run(definition, {"order": {"sku": "A1"}}, {"echo": echo})
    assert local.execution.output == {
        "order": {"sku": "A1"},
        "result": {"answer": {"sku": "A1"}, "code": 200},
    }


def test_result_selector_path_that_matches_nothing_fails_the_state() -> None:
    definition = machine({"T": lambda_task("echo", ResultSelector={"x.$": "$.nope"}, End=True)})
    local = run(definition, {}, {"echo": echo})
    assert local.execution.error == "States.Runtime"


def test_function_name_may_be_a_full_arn_with_a_version() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": f"{LAMBDA_ARN}echo:$LATEST", "Payload": {"fixed": True}},
        "End": True,
    }
    local = run(machine({"T": task}), {}, {"echo": echo})
    assert local.execution.output["Payload"] == {"got": {"fixed": True}}


def test_the_function_gets_a_lambda_context() -> None:
    seen: list[Any] = []

    def inspect(event: Any, context: Any) -> None:
        seen.append(
            (context.function_name, context.aws_request_id, context.get_remaining_time_in_millis())
        )

    run(machine({"T": lambda_task("inspect", End=True)}), {}, {"inspect": inspect})
    [(name, request_id, remaining)] = seen
    assert name == "inspect"
    assert len(request_id) == 36
    assert remaining > 0


def test_an_exception_fails_the_task_with_its_class_name_and_lambdas_cause() -> None:
    definition = machine({"T": lambda_task("out_of_stock", End=True)})
    local = run(definition, {"sku": "A1"}, {"out_of_stock": out_of_stock})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "OutOfStock"
    failed = details(of_type(local.history, "LambdaFunctionFailed")[0])
    assert failed["error"] == "OutOfStock"
    cause = json.loads(failed["cause"])
    assert cause["errorType"] == "OutOfStock"
    assert cause["errorMessage"] == "sku A1 is gone"
    # Lambda shows the handler's own frames, none of the machinery that called it.
    assert cause["stackTrace"] and all(__file__ in line for line in cause["stackTrace"])
    assert local.execution.cause == failed["cause"]


def test_an_exception_in_the_invoke_form_is_a_task_failed_event() -> None:
    definition = machine({"T": invoke_task("out_of_stock", End=True)})
    local = run(definition, {"sku": "B2"}, {"out_of_stock": out_of_stock})
    failed = details(of_type(local.history, "TaskFailed")[0])
    assert (failed["error"], failed["resourceType"], failed["resource"]) == (
        "OutOfStock",
        "lambda",
        "invoke",
    )
    assert json.loads(failed["cause"])["errorMessage"] == "sku B2 is gone"


def test_a_value_lambda_cannot_serialise_is_a_marshal_error() -> None:
    definition = machine({"T": lambda_task("bad", End=True)})
    local = run(definition, {}, {"bad": lambda event, context: {1, 2}})
    assert local.execution.error == "Runtime.MarshalError"
    assert json.loads(local.execution.cause or "")["errorType"] == "Runtime.MarshalError"


def test_a_function_that_does_not_exist_is_lambdas_resource_not_found() -> None:
    local = run(machine({"T": invoke_task("nowhere", End=True)}), {}, {})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "Lambda.ResourceNotFoundException"
    assert "nowhere" in (local.execution.cause or "")


def test_a_function_returning_nothing_gives_null() -> None:
    local = run(
        machine({"T": lambda_task("quiet", End=True)}),
        {"a": 1},
        {"quiet": lambda event, context: None},
    )
    assert local.result() == {"status": "SUCCEEDED", "output": None, "error": None, "cause": None}


def test_the_function_cannot_change_the_input_it_was_given() -> None:
    def meddle(event: dict[str, Any], context: Any) -> str:
        event["meddled"] = True
        return "done"

    definition = machine({"T": lambda_task("meddle", ResultPath="$.r", End=True)})
    local = run(definition, {"a": 1}, {"meddle": meddle})
    assert local.execution.output == {"a": 1, "r": "done"}


def test_tasks_run_in_sequence_each_on_the_previous_output() -> None:
    calls: list[Any] = []

    def step(event: Any, context: Any) -> Any:
        calls.append(event)
        return event + 1

    definition = machine(
        {
            "One": lambda_task("step", Next="Two"),
            "Two": lambda_task("step", Next="Three"),
            "Three": lambda_task("step", End=True),
        }
    )
    local = run(definition, 0, {"step": step})
    assert calls == [0, 1, 2]
    assert local.execution.output == 3


def test_a_task_with_parameters_and_a_context_value() -> None:
    definition = machine(
        {
            "Charge": lambda_task(
                "echo", Parameters={"order.$": "$.id", "state.$": "$$.State.Name"}, End=True
            )
        }
    )
    local = run(definition, {"id": 42}, {"echo": echo})
    assert local.execution.output == {"got": {"order": 42, "state": "Charge"}}
