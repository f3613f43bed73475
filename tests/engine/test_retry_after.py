"""Retry-After: a task's failure that says how long to wait holds its retry back that long.

A task's error may carry `retry_after_seconds` (a carrier's or Stripe's Retry-After). The
retry the definition allows then waits at least that long, never beyond MaxDelaySeconds;
the back-off is drawn as always, and the failure event records the hint, the drawn
back-off, the delay chosen and why. Without hints the history is what it has always been.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from stepstream.asl.retry_after import retry_after_hint
from tests.engine.support import (
    details,
    lambda_task,
    machine,
    of_type,
    replaying,
    run,
    seconds_between,
)


class Throttled(Exception):
    """An error as a service raises it after a 429, with the Retry-After it was sent."""

    def __init__(self, retry_after_seconds: Any = None) -> None:
        super().__init__(f"429, Retry-After {retry_after_seconds}")
        if retry_after_seconds is not None:
            self.retry_after_seconds = retry_after_seconds


def throttled(*hints: Any, then: Any = "done") -> Callable[[Any, Any], Any]:
    """A function failing once per hint with that Retry-After, then returning `then`."""
    queue = list(hints)

    def function(event: Any, context: Any) -> Any:
        if queue:
            raise Throttled(queue.pop(0))
        return then

    return function


def retrying(**retrier: Any) -> dict[str, Any]:
    retry = [{"ErrorEquals": ["Throttled"], "JitterStrategy": "NONE", **retrier}]
    return machine({"Call": lambda_task("call", Retry=retry, End=True)})


def failures(local: LocalRunner) -> list[dict[str, Any]]:
    return [details(event) for event in of_type(local.history, "LambdaFunctionFailed")]


def gaps(local: LocalRunner) -> list[float]:
    """Seconds from each failure to the next attempt, on the virtual clock."""
    failed = of_type(local.history, "LambdaFunctionFailed")
    scheduled = of_type(local.history, "LambdaFunctionScheduled")[1:]
    return [seconds_between(f, s) for f, s in zip(failed, scheduled, strict=False)]


def retry_record(failure: dict[str, Any]) -> tuple[Any, ...]:
    keys = ("retryAfterSeconds", "drawnDelaySeconds", "retryDelaySeconds", "retryDelayReason")
    return tuple(failure[key] for key in keys)


def test_a_hint_longer_than_the_drawn_backoff_wins() -> None:
    local = run(retrying(IntervalSeconds=1), {}, {"call": throttled(30)})
    assert local.execution.output == "done"
    assert gaps(local) == [30]
    assert retry_record(failures(local)[0]) == (30, 1, 30, "retry-after")


def test_a_hint_shorter_than_the_drawn_backoff_changes_nothing() -> None:
    local = run(retrying(IntervalSeconds=10), {}, {"call": throttled(3)})
    assert gaps(local) == [10]
    assert retry_record(failures(local)[0]) == (3, 10, 10, "backoff")


def test_a_hint_beyond_max_delay_seconds_waits_max_delay_seconds() -> None:
    definition = retrying(IntervalSeconds=1, MaxDelaySeconds=20)
    local = run(definition, {}, {"call": throttled(30, 5)})
    assert gaps(local) == [20, 5]
    assert [retry_record(f) for f in failures(local)] == [
        (30, 1, 20, "capped by MaxDelaySeconds"),
        (5, 2, 5, "retry-after"),
    ]


def test_each_retry_follows_its_own_hint_and_the_backoff_keeps_growing() -> None:
    local = run(retrying(IntervalSeconds=2, MaxAttempts=3), {}, {"call": throttled(7, None, 1)})
    assert gaps(local) == [7, 4, 8]
    first, second, third = failures(local)
    assert retry_record(first) == (7, 2, 7, "retry-after")
    # A failure without a hint records what it always has.
    assert second["retryDelaySeconds"] == 4
    assert second["retryAfterSeconds"] is None and second["retryDelayReason"] is None
    assert retry_record(third) == (1, 8, 8, "backoff")


def test_a_fractional_hint_is_rounded_up_never_down() -> None:
    local = run(retrying(IntervalSeconds=1), {}, {"call": throttled(2.0001)})
    assert gaps(local) == [2.001]


FULL_JITTER = {
    "IntervalSeconds": 2,
    "BackoffRate": 3,
    "MaxAttempts": 4,
    "MaxDelaySeconds": 40,
    "JitterStrategy": "FULL",
}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_full_jitter_every_retry_waits_the_longer_of_the_draw_and_the_hint(
    seed: int,
) -> None:
    local = run(retrying(**FULL_JITTER), {}, {"call": throttled(5, 5, 5, 5)}, seed=seed)
    caps = [2, 6, 18, 40]
    retries = failures(local)
    assert len(retries) == 4
    for failure, cap, gap in zip(retries, caps, gaps(local), strict=True):
        assert 0 <= failure["drawnDelaySeconds"] <= cap
        assert gap == failure["retryDelaySeconds"] == max(failure["drawnDelaySeconds"], 5)


def test_without_hints_the_history_is_exactly_what_it_was() -> None:
    # Recorded before hints existed: the same seed draws the same jitter, and the failure
    # events carry the fields AWS gives plus the drawn retryDelaySeconds, nothing more.
    definition = retrying(**FULL_JITTER)
    local = run(definition, {}, {"call": throttled(None, None, None, None, None)}, seed=7)
    rendered = [
        event.to_aws()["lambdaFunctionFailedEventDetails"]
        for event in of_type(local.history, "LambdaFunctionFailed")
    ]
    assert [sorted(r) for r in rendered] == [["cause", "error", "retryDelaySeconds"]] * 4 + [
        ["cause", "error"]
    ]
    assert [r.get("retryDelaySeconds") for r in rendered] == [1.302, 2.194, 0.675, 3.629, None]
    failed = of_type(local.history, "LambdaFunctionFailed")
    assert [event.timestamp.isoformat()[11:] for event in failed] == [
        "00:00:00+00:00",
        "00:00:01.302000+00:00",
        "00:00:03.496000+00:00",
        "00:00:04.171000+00:00",
        "00:00:07.800000+00:00",
    ]


def test_a_hint_does_not_change_what_the_backoff_draws() -> None:
    definition = retrying(**FULL_JITTER)
    plain = run(definition, {}, {"call": throttled(None, None, None, None)}, seed=7)
    hinted = run(definition, {}, {"call": throttled(0, 0, 0, 0)}, seed=7)
    assert [f["drawnDelaySeconds"] for f in failures(hinted)] == [
        f["retryDelaySeconds"] for f in failures(plain)
    ]
    assert gaps(hinted) == gaps(plain)


def test_a_hint_on_a_failure_that_is_not_retried_is_recorded_and_caught() -> None:
    definition = machine(
        {
            "Call": lambda_task(
                "call",
                Retry=[{"ErrorEquals": ["Throttled"], "MaxAttempts": 0}],
                Catch=[{"ErrorEquals": ["States.ALL"], "Next": "GaveUp"}],
                End=True,
            ),
            "GaveUp": {"Type": "Pass", "End": True},
        }
    )
    local = run(definition, {}, {"call": throttled(30)})
    [failure] = failures(local)
    assert failure["retryAfterSeconds"] == 30
    assert failure["retryDelaySeconds"] is None and failure["retryDelayReason"] is None
    assert local.execution.output["Error"] == "Throttled"


def test_the_history_shows_the_retry_decision_and_replays_to_the_same_execution() -> None:
    local = replaying(retrying(IntervalSeconds=1, MaxDelaySeconds=10), {"call": throttled(4, 60)})
    local.run({})
    assert local.execution.output == "done"
    rendered = [
        event.to_aws()["lambdaFunctionFailedEventDetails"]
        for event in of_type(local.history, "LambdaFunctionFailed")
    ]
    assert [{key: r[key] for key in r if key not in ("error", "cause")} for r in rendered] == [
        {
            "retryAfterSeconds": 4,
            "drawnDelaySeconds": 1,
            "retryDelaySeconds": 4,
            "retryDelayReason": "retry-after",
        },
        {
            "retryAfterSeconds": 60,
            "drawnDelaySeconds": 2,
            "retryDelaySeconds": 10,
            "retryDelayReason": "capped by MaxDelaySeconds",
        },
    ]
    assert local.decisions > 3


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (30, 30.0),
        (0.25, 0.25),
        (0, 0.0),
        (-1, None),
        (math.nan, None),
        (math.inf, None),
        ("30", None),
        (True, None),
        (None, None),
        (10**12, 31_622_400.0),
    ],
)
def test_only_a_finite_non_negative_number_is_a_hint(value: Any, hint: float | None) -> None:
    assert retry_after_hint(value) == hint


def test_an_unusable_hint_leaves_the_backoff_alone() -> None:
    local = run(retrying(IntervalSeconds=3), {}, {"call": throttled("soon")})
    assert gaps(local) == [3]
    assert failures(local)[0]["retryAfterSeconds"] is None
