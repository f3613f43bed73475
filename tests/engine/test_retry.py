"""Retry: which errors are retried, how often and after how long.

From the Step Functions guide ("Handling errors"): the wait before retry n (counting from
0) is IntervalSeconds * BackoffRate**n, capped by MaxDelaySeconds; JitterStrategy FULL
draws the wait at random between 0 and that value; MaxAttempts (default 3) counts retries
per retrier and 0 means never; the first retrier whose ErrorEquals matches handles the
error, and once it is spent the Catch takes over. States.Runtime is never retried.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from tests.engine.support import (
    details,
    entered,
    lambda_task,
    machine,
    of_type,
    run,
    seconds_between,
    types,
)


class Throttled(Exception):
    pass


class ErrorA(Exception):
    pass


class ErrorB(Exception):
    pass


class ErrorC(Exception):
    pass


def failing(*errors: type[Exception], then: Any = "done") -> Callable[[Any, Any], Any]:
    """A function raising the given errors one call after another, then returning `then`."""
    queue = list(errors)

    def function(event: Any, context: Any) -> Any:
        if queue:
            raise queue.pop(0)("failed on purpose")
        return then

    return function


def always(error: type[Exception]) -> Callable[[Any, Any], Any]:
    def function(event: Any, context: Any) -> Any:
        raise error("failed on purpose")

    return function


def retry_task(retry: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return machine({"Call": lambda_task("call", Retry=retry, End=True, **fields)})


def delays(local: LocalRunner) -> list[float | None]:
    return [details(e)["retryDelaySeconds"] for e in of_type(local.history, "LambdaFunctionFailed")]


def attempt_gaps(local: LocalRunner) -> list[float]:
    """Seconds between one attempt's failure and the next attempt's start, on the virtual clock."""
    failed = of_type(local.history, "LambdaFunctionFailed")
    scheduled = of_type(local.history, "LambdaFunctionScheduled")
    return [seconds_between(f, s) for f, s in zip(failed, scheduled[1:], strict=False)]


def test_backoff_grows_by_the_rate_and_every_retry_is_counted() -> None:
    retry = [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 3, "MaxAttempts": 3, "BackoffRate": 2}
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "Throttled"
    # The first attempt and three retries; the last failure is not retried.
    assert delays(local) == [3, 6, 12, None]
    assert attempt_gaps(local) == [3, 6, 12]


def test_defaults_are_one_second_three_attempts_rate_two() -> None:
    local = run(retry_task([{"ErrorEquals": ["States.ALL"]}]), {}, {"call": always(Throttled)})
    assert attempt_gaps(local) == [1, 2, 4]


def test_a_retry_that_succeeds_continues_with_its_result() -> None:
    retry = [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 1}]
    local = run(retry_task(retry), {}, {"call": failing(Throttled, Throttled, then={"ok": True})})
    assert local.result()["output"] == {"ok": True}
    kinds = [t for t in types(local.history) if t.startswith("LambdaFunction")]
    assert kinds == [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
    ] * 2 + [
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionSucceeded",
    ]
    # A retry stays in the state: it is entered once.
    assert entered(local.history) == ["Call"]


def test_max_attempts_zero_never_retries() -> None:
    retry = [{"ErrorEquals": ["Throttled"], "MaxAttempts": 0}]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert len(of_type(local.history, "LambdaFunctionScheduled")) == 1
    assert delays(local) == [None]


def test_max_delay_seconds_caps_the_backoff() -> None:
    retry = [
        {
            "ErrorEquals": ["Throttled"],
            "IntervalSeconds": 2,
            "BackoffRate": 10,
            "MaxAttempts": 4,
            "MaxDelaySeconds": 30,
        }
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert attempt_gaps(local) == [2, 20, 30, 30]


def test_backoff_rate_one_keeps_the_interval() -> None:
    retry = [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 5, "BackoffRate": 1, "MaxAttempts": 3}
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert attempt_gaps(local) == [5, 5, 5]


def test_a_fractional_backoff_rate() -> None:
    retry = [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxAttempts": 3}
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert attempt_gaps(local) == [2, 3, 4.5]


def test_jitter_none_is_the_computed_backoff() -> None:
    retry = [
        {
            "ErrorEquals": ["Throttled"],
            "IntervalSeconds": 2,
            "MaxAttempts": 3,
            "JitterStrategy": "NONE",
        }
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert attempt_gaps(local) == [2, 4, 8]


FULL_JITTER = [
    {
        "ErrorEquals": ["Throttled"],
        "IntervalSeconds": 2,
        "BackoffRate": 3,
        "MaxAttempts": 6,
        "MaxDelaySeconds": 40,
        "JitterStrategy": "FULL",
    }
]


def jittered(seed: int) -> list[float]:
    local = run(retry_task(FULL_JITTER), {}, {"call": always(Throttled)}, seed=seed)
    drawn = delays(local)
    assert drawn[-1] is None
    assert attempt_gaps(local) == drawn[:-1]
    return [d for d in drawn if d is not None]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_full_jitter_waits_between_zero_and_the_capped_backoff(seed: int) -> None:
    caps = [2, 6, 18, 40, 40, 40]
    drawn = jittered(seed)
    assert len(drawn) == len(caps)
    assert all(0 <= d <= cap for d, cap in zip(drawn, caps, strict=True))


def test_full_jitter_is_reproducible_with_the_same_seed_and_differs_with_another() -> None:
    assert jittered(11) == jittered(11)
    assert jittered(11) != jittered(12)


def test_full_jitter_actually_spreads_the_waits() -> None:
    drawn = [d for seed in range(20) for d in jittered(seed)[3:]]
    # Forty draws under a cap of 40 s: a full-jitter strategy cannot land them all at the cap.
    assert min(drawn) < 20 < max(drawn)


def test_each_retrier_keeps_its_own_counter() -> None:
    # The guide's example: errors A, B, C, B; the first retrier allows two retries for A and B
    # together, the second handles C. The waits are 1 and 2 s, then 5 s, then the fourth error
    # finds the first retrier spent and the Catch moves to Z.
    definition = machine(
        {
            "X": lambda_task(
                "call",
                Retry=[
                    {
                        "ErrorEquals": ["ErrorA", "ErrorB"],
                        "IntervalSeconds": 1,
                        "BackoffRate": 2,
                        "MaxAttempts": 2,
                    },
                    {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
                ],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Z"}],
                Next="Y",
            ),
            "Y": {"Type": "Pass", "End": True},
            "Z": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {}, {"call": failing(ErrorA, ErrorB, ErrorC, ErrorB)})
    assert delays(local) == [1, 2, 5, None]
    assert entered(local.history) == ["X", "Z"]
    assert local.execution.output == {"Error": "ErrorB", "Cause": local.execution.output["Cause"]}


def test_the_first_matching_retrier_handles_the_error_even_when_spent() -> None:
    retry = [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 1, "MaxAttempts": 1},
        {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 10, "MaxAttempts": 5},
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert delays(local) == [1, None]


def test_an_error_no_retrier_names_is_not_retried() -> None:
    retry = [{"ErrorEquals": ["Throttled"]}]
    local = run(retry_task(retry), {}, {"call": always(ErrorA)})
    assert delays(local) == [None]
    assert local.execution.error == "ErrorA"


def test_states_all_retries_any_error() -> None:
    retry = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]
    local = run(retry_task(retry), {}, {"call": failing(ErrorC, then=1)})
    assert local.execution.output == 1


def test_states_task_failed_retries_a_function_error() -> None:
    retry = [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 2}]
    local = run(retry_task(retry), {}, {"call": failing(ErrorA, ErrorB, then=2)})
    assert local.execution.output == 2


def test_retry_count_in_the_context_object_counts_the_retries() -> None:
    seen: list[int] = []

    def call(event: Any, context: Any) -> Any:
        seen.append(event["retry"])
        if len(seen) < 3:
            raise Throttled("again")
        return "ok"

    definition = retry_task(
        [{"ErrorEquals": ["Throttled"]}], Parameters={"retry.$": "$$.State.RetryCount"}
    )
    run(definition, {}, {"call": call})
    assert seen == [0, 1, 2]


def test_the_state_entered_time_stays_the_first_entry_across_retries() -> None:
    seen: list[str] = []

    def call(event: Any, context: Any) -> Any:
        seen.append(event["entered"])
        if len(seen) < 2:
            raise Throttled("again")
        return "ok"

    definition = retry_task(
        [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 7}],
        Parameters={"entered.$": "$$.State.EnteredTime"},
    )
    run(definition, {}, {"call": call})
    assert seen[0] == seen[1]


def test_states_runtime_is_never_retried_even_when_named() -> None:
    # OutputPath that selects nothing is a States.Runtime error after the function answered.
    retry: list[dict[str, Any]] = [
        {"ErrorEquals": ["States.Runtime"], "MaxAttempts": 5},
        {"ErrorEquals": ["States.ALL"]},
    ]
    calls: list[Any] = []

    def call(event: Any, context: Any) -> Any:
        calls.append(event)
        return {"a": 1}

    local = run(retry_task(retry, OutputPath="$.missing"), {}, {"call": call})
    assert local.execution.status == "FAILED"
    assert local.execution.error == "States.Runtime"
    assert len(calls) == 1


def test_a_task_failing_with_states_runtime_is_not_retried() -> None:
    # The local binding serves no SQS queue: the task's work fails with States.Runtime.
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage",
        "Parameters": {"QueueUrl": "https://queue.local/q", "MessageBody": "hello"},
        "Retry": [{"ErrorEquals": ["States.Runtime"]}, {"ErrorEquals": ["States.ALL"]}],
        "End": True,
    }
    local = run(machine({"Send": task}))
    assert local.execution.error == "States.Runtime"
    assert types(local.history).count("TaskScheduled") == 1


def test_retry_waits_do_not_take_real_time_but_show_on_the_virtual_clock() -> None:
    retry = [
        {"ErrorEquals": ["Throttled"], "IntervalSeconds": 3600, "MaxAttempts": 2, "BackoffRate": 1}
    ]
    local = run(retry_task(retry), {}, {"call": always(Throttled)})
    assert seconds_between(local.history[0], local.history[-1]) == 7200
