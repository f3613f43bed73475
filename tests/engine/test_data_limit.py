"""States.DataLimitExceeded: what one state may hand on is bounded.

From the Step Functions quotas: an execution's input, each state's output and each
task's parameters may hold at most 256 KiB (262,144 bytes of UTF-8 JSON). A state whose
result or output, or a task whose parameters, would exceed that fails with
States.DataLimitExceeded, which a Catch naming it can route like any other error (AWS
keeps it out of States.ALL, as a terminal error).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stepstream.asl.limits import MAX_PAYLOAD_BYTES, payload_size
from tests.engine.support import entered, invoke_task, lambda_task, machine, of_type, run

LIMIT = 262_144
TOO_BIG = "x" * (LIMIT + 1)


def cause(state: str) -> str:
    return (
        f"The state/task '{state}' returned a result with a size exceeding the maximum "
        "number of bytes service limit."
    )


def failure(local: Any) -> tuple[str | None, str | None]:
    [failed] = of_type(local.history, "ExecutionFailed")
    assert failed.details is not None
    return failed.details.error, failed.details.cause  # type: ignore[union-attr]


def test_the_limit_is_256_kib_of_utf8_json() -> None:
    assert MAX_PAYLOAD_BYTES == LIMIT
    assert payload_size("é") == len('"é"'.encode())  # UTF-8, not escaped ASCII


def test_a_pass_state_whose_output_is_too_large_fails_the_execution() -> None:
    local = run(machine({"Big": {"Type": "Pass", "Result": TOO_BIG, "End": True}}))
    assert local.execution.status == "FAILED"
    assert failure(local) == ("States.DataLimitExceeded", cause("Big"))
    assert of_type(local.history, "PassStateExited") == []


def test_an_output_just_under_the_limit_is_handed_on() -> None:
    fits = "x" * (LIMIT - 2)  # the two quotes make it exactly the limit
    local = run(machine({"Big": {"Type": "Pass", "Result": fits, "End": True}}))
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == fits


def test_a_task_result_too_large_is_caught_by_name() -> None:
    definition = machine(
        {
            "Fetch": lambda_task(
                "fetch",
                Catch=[{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "Handled"}],
                End=True,
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {}, {"fetch": lambda event, context: TOO_BIG})
    assert entered(local.history) == ["Fetch", "Handled"]
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output == {"Error": "States.DataLimitExceeded", "Cause": cause("Fetch")}


def test_a_result_selector_cannot_hide_an_output_built_too_large() -> None:
    definition = machine(
        {"Echo": lambda_task("echo", ResultSelector={"a.$": "$", "b.$": "$"}, End=True)}
    )
    half = "y" * (LIMIT // 2 + 10)
    local = run(definition, half, {"echo": lambda event, context: event})
    assert failure(local) == ("States.DataLimitExceeded", cause("Echo"))


def test_task_parameters_too_large_fail_before_the_task_runs() -> None:
    calls: list[Any] = []

    def remember(event: Any, context: Any) -> Any:
        calls.append(event)
        return "done"

    definition = machine(
        {
            "Send": invoke_task(
                "send",
                Parameters={"FunctionName": "send", "Payload": {"a.$": "$", "b.$": "$"}},
                End=True,
            )
        }
    )
    local = run(definition, "z" * (LIMIT // 2 + 10), {"send": remember})
    assert calls == []
    assert of_type(local.history, "TaskScheduled") == []
    assert failure(local) == ("States.DataLimitExceeded", cause("Send"))


def test_states_all_does_not_catch_it_as_aws_documents() -> None:
    definition = machine(
        {
            "Fetch": lambda_task(
                "fetch", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Handled"}], End=True
            ),
            "Handled": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {}, {"fetch": lambda event, context: TOO_BIG})
    assert failure(local) == ("States.DataLimitExceeded", cause("Fetch"))


@settings(max_examples=40, deadline=None)
@given(
    pad=st.integers(min_value=LIMIT // 3 - 2_000, max_value=LIMIT // 2 + 2_000),
    copies=st.integers(min_value=1, max_value=2),
    key=st.sampled_from(["x", "é", 'q"uote']),
)
def test_the_limit_is_exact_however_the_output_is_built(pad: int, copies: int, key: str) -> None:
    # The output is bounded from the input and the result, and measured only near the
    # limit: whatever the sizes, a state fails exactly when its output is over 256 KiB.
    state_input = {"pad": "p" * pad}
    parameters = {f"c{i}.$": "$.pad" for i in range(copies)}
    definition = machine(
        {
            "First": {"Type": "Pass", "Next": "Grow"},
            "Grow": {
                "Type": "Pass",
                "Parameters": parameters,
                "ResultPath": f"$['{key}']" if '"' in key else f"$.{key}",
                "End": True,
            },
        }
    )
    output = {**state_input, key: {f"c{i}": state_input["pad"] for i in range(copies)}}
    local = run(definition, state_input)
    if payload_size(output) > LIMIT:
        assert failure(local) == ("States.DataLimitExceeded", cause("Grow"))
    else:
        assert local.execution.output == output


def test_a_task_result_too_large_fails_even_when_result_path_drops_it() -> None:
    definition = machine({"Fetch": lambda_task("fetch", ResultPath=None, End=True)})
    local = run(definition, {"kept": 1}, {"fetch": lambda event, context: TOO_BIG})
    assert failure(local) == ("States.DataLimitExceeded", cause("Fetch"))
