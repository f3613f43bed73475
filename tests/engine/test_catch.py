"""Catch: where a state's error goes once no retry is left.

From the Step Functions guide ("Handling errors"): catchers are tried in order and the
first whose ErrorEquals matches wins; the error output is {"Error", "Cause"}; the catcher's
ResultPath places it into the state's input ("$" by default, which replaces the input;
null keeps the input and drops the error); an error nothing catches fails the execution.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.engine.support import callback_task, entered, lambda_task, machine, of_type, run, types


class CardDeclined(Exception):
    pass


class Throttled(Exception):
    pass


def declined(event: Any, context: Any) -> Any:
    raise CardDeclined("card ending 4242 was declined")


def throttled(event: Any, context: Any) -> Any:
    raise Throttled("slow down")


def caught(catch: list[dict[str, Any]], function: str = "charge", **fields: Any) -> dict[str, Any]:
    """Charge -> (error) the catchers' Next states, each a Pass that ends."""
    targets = {catcher["Next"]: {"Type": "Pass", "End": True} for catcher in catch}
    return machine({"Charge": lambda_task(function, Catch=catch, End=True, **fields), **targets})


FUNCTIONS = {"charge": declined, "slow": throttled}


def test_the_error_output_replaces_the_input_by_default() -> None:
    local = run(
        caught([{"ErrorEquals": ["CardDeclined"], "Next": "Handled"}]), {"order": 1}, FUNCTIONS
    )
    assert entered(local.history) == ["Charge", "Handled"]
    output = local.execution.output
    assert set(output) == {"Error", "Cause"}
    assert output["Error"] == "CardDeclined"
    assert json.loads(output["Cause"])["errorMessage"] == "card ending 4242 was declined"


def test_result_path_keeps_the_input_and_adds_the_error() -> None:
    catch = [{"ErrorEquals": ["CardDeclined"], "Next": "Handled", "ResultPath": "$.errorInfo"}]
    local = run(caught(catch), {"order": 1}, FUNCTIONS)
    output = local.execution.output
    assert output["order"] == 1
    assert output["errorInfo"]["Error"] == "CardDeclined"


def test_result_path_null_keeps_the_input_and_drops_the_error() -> None:
    catch = [{"ErrorEquals": ["CardDeclined"], "Next": "Handled", "ResultPath": None}]
    local = run(caught(catch), {"order": 1}, FUNCTIONS)
    assert local.execution.output == {"order": 1}


def test_the_raw_input_is_kept_not_the_effective_one() -> None:
    catch = [{"ErrorEquals": ["CardDeclined"], "Next": "Handled", "ResultPath": "$.errorInfo"}]
    local = run(
        caught(catch, InputPath="$.payment"), {"payment": {"card": 1}, "order": 2}, FUNCTIONS
    )
    assert local.execution.output["order"] == 2
    assert local.execution.output["payment"] == {"card": 1}


def test_catchers_are_tried_in_order_first_match_wins() -> None:
    catch = [
        {"ErrorEquals": ["Throttled"], "Next": "Other"},
        {"ErrorEquals": ["CardDeclined", "Throttled"], "Next": "Handled"},
        {"ErrorEquals": ["States.ALL"], "Next": "Any"},
    ]
    assert entered(run(caught(catch), {}, FUNCTIONS).history)[-1] == "Handled"
    assert entered(run(caught(catch, "slow"), {}, FUNCTIONS).history)[-1] == "Other"


def test_states_all_catches_what_no_earlier_catcher_names() -> None:
    catch = [
        {"ErrorEquals": ["Throttled"], "Next": "Other"},
        {"ErrorEquals": ["States.ALL"], "Next": "Any"},
    ]
    assert entered(run(caught(catch), {}, FUNCTIONS).history)[-1] == "Any"


def test_states_task_failed_catches_a_function_error() -> None:
    catch = [{"ErrorEquals": ["States.TaskFailed"], "Next": "Handled"}]
    assert entered(run(caught(catch), {}, FUNCTIONS).history)[-1] == "Handled"


def test_an_error_nothing_catches_fails_the_execution_with_its_name_and_cause() -> None:
    local = run(caught([{"ErrorEquals": ["Throttled"], "Next": "Other"}]), {}, FUNCTIONS)
    assert local.execution.status == "FAILED"
    assert local.execution.error == "CardDeclined"
    assert json.loads(local.execution.cause or "")["errorType"] == "CardDeclined"
    assert types(local.history)[-1] == "ExecutionFailed"


def test_catch_comes_after_the_retries_are_spent() -> None:
    definition = caught(
        [{"ErrorEquals": ["CardDeclined"], "Next": "Handled"}],
        Retry=[{"ErrorEquals": ["CardDeclined"], "IntervalSeconds": 1, "MaxAttempts": 2}],
    )
    local = run(definition, {}, FUNCTIONS)
    assert len(of_type(local.history, "LambdaFunctionFailed")) == 3
    assert entered(local.history) == ["Charge", "Handled"]
    # The catch happens after the last failure, two back-offs (1 s and 2 s) later.
    handled = of_type(local.history, "PassStateEntered")[0]
    assert (handled.timestamp - local.history[0].timestamp).total_seconds() == 3


def test_the_state_exits_with_the_catchers_output_before_the_next_state() -> None:
    local = run(
        caught([{"ErrorEquals": ["States.ALL"], "Next": "Any", "ResultPath": "$.e"}]),
        {"a": 1},
        FUNCTIONS,
    )
    kinds = types(local.history)
    failed = kinds.index("LambdaFunctionFailed")
    assert kinds[failed + 1 : failed + 3] == ["TaskStateExited", "PassStateEntered"]


def test_states_runtime_is_never_caught_even_when_named() -> None:
    catch = [
        {"ErrorEquals": ["States.Runtime"], "Next": "Handled"},
        {"ErrorEquals": ["States.ALL"], "Next": "Any"},
    ]
    definition = caught(catch, "ok", OutputPath="$.missing")
    local = run(definition, {}, {"ok": lambda event, context: {"a": 1}})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "States.Runtime"
    assert entered(local.history) == ["Charge"]


def test_a_parameters_path_that_selects_nothing_is_a_runtime_error_no_catch_handles() -> None:
    catch = [
        {"ErrorEquals": ["States.ParameterPathFailure"], "Next": "Handled"},
        {"ErrorEquals": ["States.Runtime"], "Next": "Handled"},
    ]
    definition = caught(catch, "ok", Parameters={"x.$": "$.missing"})
    calls: list[Any] = []
    local = run(definition, {}, {"ok": lambda event, context: calls.append(event)})
    assert entered(local.history) == ["Charge"]
    assert local.execution.error == "States.Runtime"
    assert calls == []


def test_a_result_path_match_failure_is_caught() -> None:
    catch = [{"ErrorEquals": ["States.ResultPathMatchFailure"], "Next": "Handled"}]
    definition = caught(catch, "ok", ResultPath="$.text.inner")
    local = run(definition, {"text": "not an object"}, {"ok": lambda event, context: 1})
    assert entered(local.history) == ["Charge", "Handled"]


def test_a_caught_failure_may_lead_back_into_a_loop() -> None:
    attempts: list[int] = []

    def flaky(event: Any, context: Any) -> Any:
        attempts.append(event["n"])
        if event["n"] < 3:
            raise Throttled("try later")
        return "through"

    definition = machine(
        {
            "Call": lambda_task(
                "flaky",
                Catch=[{"ErrorEquals": ["Throttled"], "Next": "Bump", "ResultPath": None}],
                End=True,
            ),
            "Bump": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "Call",
            },
        }
    )
    local = run(definition, {"n": 1}, {"flaky": flaky})
    assert attempts == [1, 2, 3]
    assert local.execution.output == "through"


@pytest.mark.parametrize(
    ("error_equals", "handled"),
    [(["States.Timeout"], True), (["States.ALL"], True), (["States.TaskFailed"], False)],
)
def test_a_timeout_is_caught_by_its_name_and_by_states_all_but_not_by_task_failed(
    error_equals: list[str], handled: bool
) -> None:
    definition = machine(
        {
            "Wait for it": callback_task(
                TimeoutSeconds=5, Catch=[{"ErrorEquals": error_equals, "Next": "Handled"}], End=True
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {}, {"publish": lambda event, context: None})
    assert local.execution.status == ("SUCCEEDED" if handled else "FAILED")
    if not handled:
        assert local.execution.error == "States.Timeout"


def test_catch_assign_sets_variables_from_the_error_output() -> None:
    definition = machine(
        {
            "Charge": lambda_task(
                "charge",
                Catch=[
                    {
                        "ErrorEquals": ["States.ALL"],
                        "Next": "Report",
                        "Assign": {"failure.$": "$.Error"},
                    }
                ],
                End=True,
            ),
            "Report": {"Type": "Pass", "Parameters": {"was.$": "$failure"}, "End": True},
        }
    )
    local = run(definition, {}, FUNCTIONS)
    assert local.execution.output == {"was": "CardDeclined"}
