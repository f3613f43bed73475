"""Time limits: a task's TimeoutSeconds(Path) and HeartbeatSeconds(Path), and the
execution's own TimeoutSeconds.

From the Step Functions guide: a task that runs longer than TimeoutSeconds fails with
States.Timeout; one that goes longer than HeartbeatSeconds without a heartbeat fails with
States.HeartbeatTimeout, and each heartbeat starts that wait afresh; an answer arriving
after the task gave up is refused; an execution running past its TimeoutSeconds ends
TIMED_OUT. The worker here never answers on its own: only the test does.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepstream.asl.execution import TaskNotPending
from stepstream.asl.local import LocalRunner
from stepstream.asl.messages import TaskResult
from tests.engine.support import (
    Inbox,
    callback_task,
    details,
    entered,
    machine,
    of_type,
    runner,
    seconds_between,
    types,
)


def started(definition: dict[str, Any], execution_input: Any = None) -> tuple[LocalRunner, Inbox]:
    """The execution started, its tasks handed over, no time passed."""
    inbox = Inbox()
    local = runner(definition, {"publish": inbox})
    local.start({} if execution_input is None else execution_input)
    local.settle()
    return local, inbox


def elapsed(local: LocalRunner) -> float:
    return seconds_between(local.history[0], local.history[-1])


def test_a_task_that_never_answers_times_out() -> None:
    local, _ = started(machine({"Ask": callback_task(TimeoutSeconds=30, End=True)}))
    local.run_until_idle()
    assert (local.execution.status, local.execution.error) == ("FAILED", "States.Timeout")
    [timed_out] = of_type(local.history, "TaskTimedOut")
    assert details(timed_out)["error"] == "States.Timeout"
    assert elapsed(local) == 30


def test_nothing_happens_before_the_timeout() -> None:
    local, _ = started(machine({"Ask": callback_task(TimeoutSeconds=30, End=True)}))
    local.advance(29)
    assert local.execution.status == "RUNNING"
    local.advance(1)
    assert local.execution.error == "States.Timeout"


def test_an_answer_in_time_wins_and_the_timeout_is_dropped() -> None:
    local, inbox = started(machine({"Ask": callback_task(TimeoutSeconds=30, End=True)}))
    local.advance(29)
    local.send_task_success(inbox.tokens[0], "just in time")
    assert local.execution.output == "just in time"
    assert local.execution.timers() == []


def test_a_late_answer_is_refused_and_changes_nothing() -> None:
    local, inbox = started(machine({"Ask": callback_task(TimeoutSeconds=30, End=True)}))
    local.run_until_idle()
    length = len(local.history)
    with pytest.raises(TaskNotPending):
        local.send_task_success(inbox.tokens[0], "late")
    [scheduled] = of_type(local.history, "TaskScheduled")
    local.send(TaskResult(str(scheduled.id), "late"))
    assert len(local.history) == length
    assert local.execution.error == "States.Timeout"


def test_timeout_seconds_path_reads_the_limit_from_the_input() -> None:
    local, _ = started(
        machine({"Ask": callback_task(TimeoutSecondsPath="$.limit", End=True)}), {"limit": 12}
    )
    local.run_until_idle()
    assert local.execution.error == "States.Timeout"
    assert elapsed(local) == 12
    assert details(of_type(local.history, "TaskScheduled")[0])["timeoutInSeconds"] == 12


def test_a_timeout_can_be_retried() -> None:
    definition = machine(
        {
            "Ask": callback_task(
                TimeoutSeconds=10,
                Retry=[{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 5, "MaxAttempts": 1}],
                End=True,
            )
        }
    )
    local, inbox = started(definition)
    local.advance(15)
    assert len(inbox.tokens) == 2
    local.send_task_success(inbox.tokens[1], "second try")
    assert local.execution.output == "second try"
    [timed_out] = of_type(local.history, "TaskTimedOut")
    assert details(timed_out)["retryDelaySeconds"] == 5


def test_a_silent_task_fails_with_heartbeat_timeout() -> None:
    local, _ = started(
        machine({"Ask": callback_task(TimeoutSeconds=300, HeartbeatSeconds=10, End=True)})
    )
    local.run_until_idle()
    assert local.execution.error == "States.HeartbeatTimeout"
    assert elapsed(local) == 10
    [timed_out] = of_type(local.history, "TaskTimedOut")
    assert details(timed_out)["error"] == "States.HeartbeatTimeout"


def test_heartbeats_keep_the_task_alive() -> None:
    local, inbox = started(
        machine({"Ask": callback_task(TimeoutSeconds=300, HeartbeatSeconds=10, End=True)})
    )
    token = inbox.tokens[0]
    for _ in range(5):
        local.advance(8)
        local.send_task_heartbeat(token)
    assert local.execution.status == "RUNNING"
    local.advance(9)
    local.send_task_success(token, "alive")
    assert local.execution.output == "alive"
    assert elapsed(local) == 49


def test_without_a_heartbeat_it_dies_heartbeat_seconds_after_the_last_one() -> None:
    local, inbox = started(
        machine({"Ask": callback_task(TimeoutSeconds=300, HeartbeatSeconds=10, End=True)})
    )
    local.advance(7)
    local.send_task_heartbeat(inbox.tokens[0])
    local.run_until_idle()
    assert local.execution.error == "States.HeartbeatTimeout"
    assert elapsed(local) == 17


def test_heartbeats_do_not_extend_the_overall_timeout() -> None:
    local, inbox = started(
        machine({"Ask": callback_task(TimeoutSeconds=20, HeartbeatSeconds=10, End=True)})
    )
    for _ in range(3):
        local.advance(8)
        if local.execution.status == "RUNNING":
            local.send_task_heartbeat(inbox.tokens[0])
    assert local.execution.error == "States.Timeout"
    assert elapsed(local) == 20


def test_heartbeat_seconds_path_reads_the_limit_from_the_input() -> None:
    local, _ = started(
        machine({"Ask": callback_task(HeartbeatSecondsPath="$.beat", End=True)}), {"beat": 4}
    )
    local.run_until_idle()
    assert local.execution.error == "States.HeartbeatTimeout"
    assert elapsed(local) == 4


def test_a_heartbeat_timeout_is_caught_by_task_failed() -> None:
    definition = machine(
        {
            "Ask": callback_task(
                HeartbeatSeconds=5,
                Catch=[{"ErrorEquals": ["States.TaskFailed"], "Next": "Gave up"}],
                End=True,
            ),
            "Gave up": {"Type": "Pass", "End": True},
        }
    )
    local, _ = started(definition)
    local.run_until_idle()
    assert entered(local.history) == ["Ask", "Gave up"]
    assert local.execution.output["Error"] == "States.HeartbeatTimeout"


def test_the_execution_times_out_after_its_timeout_seconds() -> None:
    definition = machine({"Ask": callback_task(End=True)}, TimeoutSeconds=60)
    local, inbox = started(definition)
    local.advance(59)
    assert local.execution.status == "RUNNING"
    local.advance(1)
    assert local.execution.status == "TIMED_OUT"
    assert types(local.history)[-1] == "ExecutionTimedOut"
    assert elapsed(local) == 60
    assert local.execution.pending_tasks() == []
    with pytest.raises(TaskNotPending):
        local.send_task_success(inbox.tokens[0], "too late")


def test_the_execution_timeout_cuts_a_long_wait_short() -> None:
    definition = machine(
        {"Nap": {"Type": "Wait", "Seconds": 3600, "End": True}}, TimeoutSeconds=100
    )
    inbox = Inbox()
    local = runner(definition, {"publish": inbox})
    local.run({})
    assert local.result()["status"] == "TIMED_OUT"
    assert elapsed(local) == 100
    assert "WaitStateExited" not in types(local.history)


def test_an_execution_that_finishes_in_time_is_not_timed_out() -> None:
    definition = machine({"Nap": {"Type": "Wait", "Seconds": 10, "End": True}}, TimeoutSeconds=100)
    local = runner(definition)
    local.run({})
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.timers() == []


def test_the_execution_timeout_stops_every_map_iteration() -> None:
    definition = machine(
        {
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Ask", "States": {"Ask": callback_task(End=True)}},
                "End": True,
            }
        },
        TimeoutSeconds=10,
    )
    inbox = Inbox()
    local = runner(definition, {"publish": inbox})
    local.run([1, 2, 3])
    assert local.execution.status == "TIMED_OUT"
    assert local.execution.state.frames == {}
    assert local.execution.pending_tasks() == [] and local.execution.timers() == []
