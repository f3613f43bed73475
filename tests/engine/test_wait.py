"""Wait: for a number of seconds or until a moment, fixed or taken from the input.

The engine never sleeps: a Wait arms a timer, and the local runner's virtual clock jumps
to it, so the timestamps in the history show the waited time while the test takes none.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepstream.asl.local import LocalRunner
from tests.engine.support import machine, of_type, run, seconds_between, types

START = "2026-01-01T00:00:00+00:00"  # the virtual clock's first moment


def wait_then_pass(wait: dict[str, Any]) -> dict[str, Any]:
    return machine(
        {"Hold": {"Type": "Wait", "Next": "After", **wait}, "After": {"Type": "Pass", "End": True}}
    )


def waited(local: LocalRunner) -> float:
    [entered] = of_type(local.history, "WaitStateEntered")
    [exited] = of_type(local.history, "WaitStateExited")
    return seconds_between(entered, exited)


def test_seconds_waits_that_long() -> None:
    local = run(wait_then_pass({"Seconds": 10}), {"a": 1})
    assert waited(local) == 10
    assert local.execution.output == {"a": 1}


def test_an_hour_completes_at_once_on_the_virtual_clock() -> None:
    local = run(wait_then_pass({"Seconds": 3600}))
    assert local.execution.status == "SUCCEEDED"
    assert waited(local) == 3600
    assert local.history[-1].timestamp.isoformat() == "2026-01-01T01:00:00+00:00"


def test_seconds_path_reads_the_wait_from_the_input() -> None:
    assert waited(run(wait_then_pass({"SecondsPath": "$.delay"}), {"delay": 42})) == 42


def test_timestamp_waits_until_that_moment() -> None:
    local = run(wait_then_pass({"Timestamp": "2026-01-01T00:05:00Z"}))
    [exited] = of_type(local.history, "WaitStateExited")
    assert exited.timestamp.isoformat() == "2026-01-01T00:05:00+00:00"


def test_timestamp_with_an_offset_names_the_same_instant() -> None:
    local = run(wait_then_pass({"Timestamp": "2026-01-01T01:05:00+01:00"}))
    assert waited(local) == 300


def test_timestamp_path_reads_the_moment_from_the_input() -> None:
    local = run(wait_then_pass({"TimestampPath": "$.until"}), {"until": "2026-01-02T00:00:00Z"})
    assert waited(local) == 86400


def test_a_moment_already_past_does_not_wait() -> None:
    local = run(wait_then_pass({"Timestamp": "2016-03-14T01:59:00Z"}))
    assert local.execution.status == "SUCCEEDED"
    assert waited(local) == 0


def test_seconds_zero_does_not_wait() -> None:
    assert waited(run(wait_then_pass({"Seconds": 0}))) == 0


def test_history_shows_entered_and_exited() -> None:
    local = run(wait_then_pass({"Seconds": 1}))
    assert types(local.history) == [
        "ExecutionStarted",
        "WaitStateEntered",
        "WaitStateExited",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]


def test_input_and_output_path_shape_what_the_wait_passes_on() -> None:
    definition = wait_then_pass({"Seconds": 1, "InputPath": "$.keep", "OutputPath": "$.inner"})
    local = run(definition, {"keep": {"inner": [1]}, "drop": 2})
    assert local.execution.output == [1]


def test_waits_in_sequence_add_up() -> None:
    definition = machine(
        {
            "First": {"Type": "Wait", "Seconds": 30, "Next": "Second"},
            "Second": {"Type": "Wait", "SecondsPath": "$.more", "Next": "Third"},
            "Third": {"Type": "Wait", "Timestamp": "2026-01-01T00:10:00Z", "End": True},
        }
    )
    local = run(definition, {"more": 60})
    exits = [e.timestamp.isoformat() for e in of_type(local.history, "WaitStateExited")]
    assert exits == [
        "2026-01-01T00:00:30+00:00",
        "2026-01-01T00:01:30+00:00",
        "2026-01-01T00:10:00+00:00",
    ]


@pytest.mark.parametrize(
    ("wait", "execution_input"),
    [
        ({"SecondsPath": "$.delay"}, {"delay": -5}),
        ({"SecondsPath": "$.delay"}, {"delay": "ten"}),
        ({"SecondsPath": "$.delay"}, {}),
        ({"TimestampPath": "$.until"}, {"until": "tomorrow"}),
        ({"TimestampPath": "$.until"}, {"until": "2026-01-02 00:00:00"}),
        ({"TimestampPath": "$.until"}, {"until": 1700000000}),
    ],
)
def test_a_wait_value_that_is_not_a_time_is_a_runtime_error(
    wait: dict[str, Any], execution_input: Any
) -> None:
    local = run(wait_then_pass(wait), execution_input)
    assert local.execution.status == "FAILED"
    assert local.execution.error == "States.Runtime"
    assert types(local.history) == ["ExecutionStarted", "WaitStateEntered", "ExecutionFailed"]
