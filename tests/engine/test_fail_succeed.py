"""Succeed and Fail: the two states that end their scope on purpose."""

from __future__ import annotations

from tests.engine.support import details, machine, of_type, run, types


def test_succeed_ends_the_execution_with_its_input() -> None:
    local = run(machine({"Done": {"Type": "Succeed"}}), {"a": 1})
    assert local.result() == {
        "status": "SUCCEEDED",
        "output": {"a": 1},
        "error": None,
        "cause": None,
    }
    assert types(local.history) == [
        "ExecutionStarted",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]


def test_succeed_applies_input_and_output_path() -> None:
    local = run(
        machine({"Done": {"Type": "Succeed", "InputPath": "$.a", "OutputPath": "$.b"}}),
        {"a": {"b": 2}},
    )
    assert local.execution.output == 2


def test_succeed_reached_from_a_choice() -> None:
    definition = machine(
        {
            "Decide": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Done"}],
                "Default": "Stop",
            },
            "Done": {"Type": "Succeed"},
            "Stop": {"Type": "Fail", "Error": "NotOk"},
        }
    )
    assert run(definition, {"ok": True}).execution.status == "SUCCEEDED"
    assert run(definition, {"ok": False}).execution.error == "NotOk"


def test_fail_ends_the_execution_with_its_error_and_cause() -> None:
    local = run(
        machine(
            {"Stop": {"Type": "Fail", "Error": "OrderFulfillmentFailed", "Cause": "Stock was gone"}}
        )
    )
    assert local.result() == {
        "status": "FAILED",
        "output": None,
        "error": "OrderFulfillmentFailed",
        "cause": "Stock was gone",
    }
    assert types(local.history) == ["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]
    assert details(local.history[-1]) == {
        "error": "OrderFulfillmentFailed",
        "cause": "Stock was gone",
    }


def test_error_path_and_cause_path_read_the_input() -> None:
    state = {"Type": "Fail", "ErrorPath": "$.failure.name", "CausePath": "$.failure.why"}
    local = run(
        machine({"Stop": state}), {"failure": {"name": "Declined", "why": "insufficient funds"}}
    )
    assert (local.execution.error, local.execution.cause) == ("Declined", "insufficient funds")


def test_error_path_and_cause_path_may_be_intrinsics() -> None:
    state = {
        "Type": "Fail",
        "ErrorPath": "States.Format('{}Error', $.kind)",
        "CausePath": "States.Format('Order {} failed at {}', $.order, $$.State.Name)",
    }
    local = run(machine({"Stop": state}), {"kind": "Payment", "order": 17})
    assert (local.execution.error, local.execution.cause) == (
        "PaymentError",
        "Order 17 failed at Stop",
    )


def test_error_path_that_is_not_a_string_is_a_runtime_error() -> None:
    local = run(machine({"Stop": {"Type": "Fail", "ErrorPath": "$.code"}}), {"code": 503})
    assert local.execution.error == "States.Runtime"


def test_fail_after_work_keeps_the_history_of_that_work() -> None:
    definition = machine(
        {
            "Prepare": {"Type": "Pass", "Result": {"reason": "no stock"}, "Next": "Stop"},
            "Stop": {"Type": "Fail", "Error": "Stopped", "CausePath": "$.reason"},
        }
    )
    local = run(definition)
    assert local.execution.cause == "no stock"
    assert details(of_type(local.history, "FailStateEntered")[0])["input"] == {"reason": "no stock"}


def test_an_error_or_cause_left_out_is_absent_not_empty() -> None:
    only_cause = run(machine({"Stop": {"Type": "Fail", "Cause": "no error name given"}}))
    assert (only_cause.execution.error, only_cause.execution.cause) == (None, "no error name given")
    assert only_cause.history[-1].to_aws()["executionFailedEventDetails"] == {
        "cause": "no error name given"
    }
    only_error = run(machine({"Stop": {"Type": "Fail", "Error": "Stopped"}}))
    assert (only_error.execution.error, only_error.execution.cause) == ("Stopped", None)
