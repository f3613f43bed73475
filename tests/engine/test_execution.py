"""The engine as the orchestrator drives it: `Execution` takes one message at a time and
answers with a Decision, the events to append and the effects to carry out (schedule a
task, start or cancel a timer). It reads no clock and draws no randomness of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stepstream.asl.execution import Execution
from stepstream.asl.machine import load_machine
from stepstream.asl.messages import (
    CancelTimer,
    Decision,
    ScheduleTask,
    StartTimer,
    StopRequested,
    TaskError,
    TaskHeartbeat,
    TaskPickedUp,
    TaskResult,
    TimerFired,
)
from stepstream.asl.ports import SeededEntropy, VirtualClock
from tests.engine.support import callback_task, invoke_task, machine

ARN = "arn:aws:states:us-east-1:123456789012:execution:orders:order-1"
T0 = datetime(1999, 12, 31, 23, 0, tzinfo=UTC)


class World:
    """The orchestrator's side, by hand: one clock, one random source, one execution."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.clock = VirtualClock(T0)
        self.entropy = SeededEntropy(1)
        self.execution = Execution(load_machine(definition), execution_arn=ARN)

    def start(self, execution_input: Any = None) -> Decision:
        return self.execution.start(
            {} if execution_input is None else execution_input,
            clock=self.clock,
            entropy=self.entropy,
        )

    def send(self, message: Any, after: float = 0) -> Decision:
        self.clock.advance(after)
        return self.execution.handle(message, clock=self.clock, entropy=self.entropy)


def only(effects: list[Any], kind: type) -> list[Any]:
    return [effect for effect in effects if isinstance(effect, kind)]


def test_a_task_is_an_effect_named_after_its_scheduled_event() -> None:
    world = World(
        machine({"Charge": invoke_task("charge", "$.payment", TimeoutSeconds=30, End=True)})
    )
    decision = world.start({"payment": {"amount": 5}})
    [task] = only(decision.effects, ScheduleTask)
    [scheduled] = [e for e in decision.events if e.type == "TaskScheduled"]
    assert task.task_id == str(scheduled.id)
    assert task.payload == {"FunctionName": "charge", "Payload": {"amount": 5}}
    assert task.resource.integration == "lambda:invoke"
    assert (task.state_name, task.scope, task.task_token, task.timeout_seconds) == (
        "Charge",
        "",
        None,
        30,
    )
    [timer] = only(decision.effects, StartTimer)
    assert timer.due_at == T0 + timedelta(seconds=30)


def test_the_answer_finishes_the_execution_and_cancels_its_timer() -> None:
    world = World(machine({"Charge": invoke_task("charge", TimeoutSeconds=30, End=True)}))
    [task] = only(world.start().effects, ScheduleTask)
    decision = world.send(TaskResult(task.task_id, {"Payload": "paid"}), after=3)
    assert [e.type for e in decision.events] == [
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]
    assert only(decision.effects, CancelTimer) == [CancelTimer(f"timeout:{task.task_id}")]
    assert world.execution.output == {"Payload": "paid"}
    assert decision.events[-1].timestamp == T0 + timedelta(seconds=3)


def test_a_picked_up_task_records_task_started_once() -> None:
    world = World(machine({"Charge": invoke_task("charge", End=True)}))
    [task] = only(world.start().effects, ScheduleTask)
    assert [e.type for e in world.send(TaskPickedUp(task.task_id)).events] == ["TaskStarted"]
    assert [e.type for e in world.send(TaskError(task.task_id, "Declined", "no")).events] == [
        "TaskFailed",
        "ExecutionFailed",
    ]


def test_a_wait_is_a_timer_and_its_firing_moves_on() -> None:
    world = World(
        machine(
            {"Nap": {"Type": "Wait", "Seconds": 600, "Next": "Done"}, "Done": {"Type": "Succeed"}}
        )
    )
    decision = world.start()
    [timer] = only(decision.effects, StartTimer)
    assert timer.due_at == T0 + timedelta(minutes=10)
    assert world.execution.status == "RUNNING"
    decision = world.send(TimerFired(timer.timer_id), after=600)
    assert [e.type for e in decision.events] == [
        "WaitStateExited",
        "SucceedStateEntered",
        "SucceedStateExited",
        "ExecutionSucceeded",
    ]
    assert decision.effects == []


def test_a_callback_task_carries_its_token_and_heartbeats_move_the_heartbeat_timer() -> None:
    world = World(machine({"Ask": callback_task(HeartbeatSeconds=10, End=True)}))
    decision = world.start()
    [task] = only(decision.effects, ScheduleTask)
    assert task.task_token is not None
    assert task.payload["Payload"]["token"] == task.task_token
    assert world.execution.task_for_token(task.task_token).task_id == task.task_id
    [heartbeat] = only(decision.effects, StartTimer)
    moved = world.send(TaskHeartbeat(task.task_id), after=7)
    assert only(moved.effects, StartTimer) == [
        StartTimer(heartbeat.timer_id, T0 + timedelta(seconds=17))
    ]


def test_a_retry_backoff_is_a_timer() -> None:
    retry = [{"ErrorEquals": ["Busy"], "IntervalSeconds": 4}]
    world = World(machine({"Charge": invoke_task("charge", Retry=retry, End=True)}))
    [task] = only(world.start().effects, ScheduleTask)
    decision = world.send(TaskError(task.task_id, "Busy", "later"))
    [timer] = only(decision.effects, StartTimer)
    assert timer.due_at == T0 + timedelta(seconds=4)
    assert only(decision.effects, ScheduleTask) == []
    again = world.send(TimerFired(timer.timer_id), after=4)
    [retried] = only(again.effects, ScheduleTask)
    assert retried.task_id != task.task_id


def test_stop_cancels_what_was_pending() -> None:
    world = World(machine({"Ask": callback_task(TimeoutSeconds=99, End=True)}, TimeoutSeconds=500))
    world.start()
    decision = world.send(StopRequested("Operator", "enough"))
    assert [e.type for e in decision.events] == ["ExecutionAborted"]
    assert sorted(c.timer_id for c in only(decision.effects, CancelTimer)) == [
        "execution-timeout",
        "timeout:3",
    ]


def test_a_failing_branch_cancels_its_siblings_timers() -> None:
    branches = [
        {"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 300, "End": True}}},
        {"StartAt": "Check", "States": {"Check": invoke_task("check", End=True)}},
    ]
    world = World(machine({"Both": {"Type": "Parallel", "Branches": branches, "End": True}}))
    decision = world.start()
    [nap] = only(decision.effects, StartTimer)
    [task] = only(decision.effects, ScheduleTask)
    assert task.scope == "/1"
    decision = world.send(TaskError(task.task_id, "Broken", ""))
    assert CancelTimer(nap.timer_id) in decision.effects
    assert world.execution.status == "FAILED"


def test_the_engine_reads_only_the_clock_it_is_given() -> None:
    world = World(machine({"Nap": {"Type": "Wait", "Seconds": 1, "End": True}}))
    decision = world.start()
    assert decision.events[0].timestamp == T0
    assert world.execution.state.start_date == T0


def test_starting_twice_is_refused() -> None:
    world = World(machine({"P": {"Type": "Pass", "End": True}}))
    world.start()
    with pytest.raises(RuntimeError, match="already started"):
        world.start()


def test_messages_nobody_waits_for_change_nothing() -> None:
    world = World(machine({"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}))
    world.start()
    version = world.execution.version
    for message in (
        TimerFired("no-such-timer"),
        TaskResult("99", 1),
        TaskError("99", "E"),
        TaskHeartbeat("99"),
    ):
        assert world.send(message) == Decision([], [])
    assert world.execution.version == version
    finished = World(machine({"P": {"Type": "Pass", "End": True}}))
    finished.start()
    assert finished.send(StopRequested()) == Decision([], [])


def test_version_is_the_number_of_events() -> None:
    world = World(machine({"Nap": {"Type": "Wait", "Seconds": 60, "End": True}}))
    events = world.start().events
    [timer] = world.execution.timers()
    events += world.send(TimerFired(timer.timer_id), after=60).events
    assert world.execution.version == len(events) == events[-1].id


def test_the_same_seed_gives_the_same_decisions() -> None:
    definition = machine(
        {
            "Ask": callback_task(
                Retry=[{"ErrorEquals": ["Busy"], "JitterStrategy": "FULL", "IntervalSeconds": 9}],
                End=True,
            )
        }
    )

    def decide_all() -> list[dict[str, Any]]:
        world = World(definition)
        [task] = only(world.start().effects, ScheduleTask)
        events = world.send(TaskError(task.task_id, "Busy", "")).events
        return [e.to_record() for e in events]

    assert decide_all() == decide_all()


def test_a_lambda_arn_task_that_times_out_records_lambda_function_timed_out() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:1:function:slow",
        "TimeoutSeconds": 3,
    }
    world = World(machine({"Slow": {**task, "End": True}}))
    decision = world.start()
    [timer] = only(decision.effects, StartTimer)
    decision = world.send(TimerFired(timer.timer_id), after=3)
    assert [e.type for e in decision.events] == ["LambdaFunctionTimedOut", "ExecutionFailed"]
    assert world.execution.error == "States.Timeout"
