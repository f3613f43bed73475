"""The decider: runs an execution forward from one message until it waits on the world.

Every change goes through an event applied by `evolve.apply`, so what the decider leaves
behind is exactly what replaying its events gives. This module only routes a message to
the state it concerns; `states.base` takes a state through its steps and each state type's
module does and records its own part.
"""

from __future__ import annotations

from typing import Any

from stepstream.asl import errors
from stepstream.asl.frames import ExecutionState
from stepstream.asl.history import (
    ExecutionFailedDetails,
    ExecutionRedrivenDetails,
    ExecutionStartedDetails,
)
from stepstream.asl.messages import (
    CancelTimer,
    Decision,
    Message,
    ScheduleTask,
    StartTimer,
    StopRequested,
    TaskError,
    TaskHeartbeat,
    TaskPickedUp,
    TaskResult,
    TimerFired,
)
from stepstream.asl.ports import Clock, Entropy
from stepstream.asl.states import task, wait
from stepstream.asl.states.base import Runner
from stepstream.asl.states.lifecycle import EXECUTION_TIMEOUT


def internal_error_cause(exc: BaseException) -> str:
    """The cause an execution fails with when the engine itself went wrong."""
    return f"The execution failed on an internal error of the engine: {type(exc).__name__}: {exc}"


class Decider(Runner):
    """One decision: built for one message, then dropped."""

    def __init__(self, state: ExecutionState, clock: Clock, entropy: Entropy) -> None:
        super().__init__(state, clock, entropy)
        self._fired: str | None = None
        self._version_before = state.last_event_id
        # Due times, not timer objects: a heartbeat moves its timer in place.
        self._timers_before = {tid: timer.due_at for tid, timer in state.timers.items()}

    def start(self, execution_input: Any) -> Decision:
        self.emit(
            "ExecutionStarted",
            ExecutionStartedDetails(
                input=execution_input, stateMachineArn=self.state.state_machine_arn
            ),
        )
        root = self.state.frames[""]
        self.later(lambda: self.enter(root, self.state.machine.scope.start_at, execution_input))
        return self._finish()

    def redrive(self, client_token: str | None) -> Decision:
        """Reopen a stopped execution and run again what did not succeed."""
        details = ExecutionRedrivenDetails(
            redriveCount=self.state.redrive_count + 1, clientToken=client_token
        )
        self.emit("ExecutionRedriven", details)
        try:
            root = self.state.frames[""]
        except Exception as exc:
            return self._crashed(exc)
        self.later(lambda: self.revive(root))
        return self._finish()

    def handle(self, message: Message) -> Decision:
        try:
            self._route(message)
        except Exception as exc:
            return self._crashed(exc)
        return self._finish()

    def fail(self, error: str, cause: str) -> Decision:
        """End the execution with `error` now, whatever it was waiting for."""
        if self.state.running:
            self.emit("ExecutionFailed", ExecutionFailedDetails(error=error, cause=cause))
        return self._decision()

    def _route(self, message: Message) -> None:
        if self.state.running:
            match message:
                case TaskResult() | TaskError() | TaskPickedUp() | TaskHeartbeat():
                    task.on_message(self, message)
                case TimerFired(timer_id):
                    self._on_timer(timer_id)
                case StopRequested(error, cause):
                    self.emit("ExecutionAborted", ExecutionFailedDetails(error=error, cause=cause))

    def _finish(self) -> Decision:
        try:
            self.drain()
        except Exception as exc:
            return self._crashed(exc)
        return self._decision()

    def _crashed(self, exc: Exception) -> Decision:
        """A fault of the engine itself fails this one execution rather than its caller.

        What was recorded before the fault stays, so the history still replays to the
        state left here; nothing the faulty decision asked of the world is carried out.
        """
        self._work.clear()
        # An event whose recording failed half-way took its id with it; the failure
        # follows the last event really recorded.
        self.state.last_event_id = self._version_before + len(self.events)
        self.effects = [effect for effect in self.effects if not isinstance(effect, ScheduleTask)]
        if self.state.running:
            details = ExecutionFailedDetails(error=errors.RUNTIME, cause=internal_error_cause(exc))
            self.emit("ExecutionFailed", details)
        return self._decision()

    def _decision(self) -> Decision:
        for timer_id, timer in self.state.timers.items():
            if self._timers_before.get(timer_id) != timer.due_at:
                self.effects.append(StartTimer(timer_id, timer.due_at))
        for timer_id in self._timers_before:
            if timer_id not in self.state.timers and timer_id != self._fired:
                self.effects.append(CancelTimer(timer_id))
        return Decision(self.events, self.effects)

    def _on_timer(self, timer_id: str) -> None:
        timer = self.state.timers.get(timer_id)
        if timer is None:
            return  # cancelled, or already handled
        self._fired = timer_id
        if timer.kind == EXECUTION_TIMEOUT:
            details = ExecutionFailedDetails(
                error=errors.TIMEOUT, cause="The execution ran longer than its TimeoutSeconds"
            )
            self.emit("ExecutionTimedOut", details)
            return
        assert timer.frame_id is not None
        frame = self.state.frames[timer.frame_id]
        if timer.kind == "wait":
            wait.timer_fired(self, frame)
        elif timer.kind == "retry":
            self.resume(frame, self.attempt(frame))
        elif timer.kind in ("timeout", "heartbeat"):
            task.timed_out(self, frame, timer.kind)
