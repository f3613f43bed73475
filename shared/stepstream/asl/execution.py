"""An execution of a state machine: its state, and the decisions that move it on.

    execution = Execution(machine, execution_arn=arn)
    decision = execution.start(input, clock=clock, entropy=entropy)
    # persist decision.events, carry out decision.effects, then later:
    decision = execution.handle(TaskResult(task_id, output), clock=clock, entropy=entropy)
    # and once it failed, timed out or was aborted, perhaps:
    decision = execution.redrive(clock=clock, entropy=entropy)

`Execution.from_history` rebuilds one from its stored events alone.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from stepstream.asl import evolve
from stepstream.asl.decide import Decider
from stepstream.asl.definition import StateMachineDef
from stepstream.asl.frames import ExecutionState, PendingTask, Timer
from stepstream.asl.history import HistoryEvent
from stepstream.asl.messages import Decision, Message
from stepstream.asl.ports import Clock, Entropy, SeededEntropy
from stepstream.asl.redrive import NotRedrivable, state_refusal
from stepstream.asl.tokens import InvalidToken, decode_token


class Execution:
    def __init__(
        self,
        machine: StateMachineDef,
        *,
        execution_arn: str,
        state_machine_arn: str = "arn:aws:states:local:000000000000:stateMachine:local",
        name: str = "",
    ) -> None:
        self.state = ExecutionState(
            machine=machine,
            execution_arn=execution_arn,
            state_machine_arn=state_machine_arn,
            name=name or execution_arn.rsplit(":", 1)[-1],
        )

    @classmethod
    def from_history(
        cls,
        machine: StateMachineDef,
        events: Iterable[HistoryEvent],
        *,
        execution_arn: str,
        **ids: str,
    ) -> Execution:
        execution = cls(machine, execution_arn=execution_arn, **ids)
        for event in events:
            execution.apply(event)
        return execution

    def apply(self, event: HistoryEvent) -> None:
        evolve.apply(self.state, event)

    def start(self, execution_input: Any, *, clock: Clock, entropy: Entropy) -> Decision:
        if self.state.status != "NOT_STARTED":
            raise RuntimeError(f"execution {self.state.execution_arn} has already started")
        return Decider(self.state, clock, entropy).start(execution_input)

    def redrive(
        self, *, clock: Clock, entropy: Entropy, client_token: str | None = None
    ) -> Decision:
        """Resume a failed, timed-out or aborted execution from where it stopped.

        Raises NotRedrivable, with AWS's reason, for one that cannot be redriven now.
        """
        reason = state_refusal(self.state, clock.now())
        if reason is not None:
            raise NotRedrivable(reason)
        return Decider(self.state, clock, entropy).redrive(client_token)

    def handle(self, message: Message, *, clock: Clock, entropy: Entropy) -> Decision:
        """Move the execution on by one message; one it no longer waits for changes nothing."""
        return Decider(self.state, clock, entropy).handle(message)

    def fail(self, error: str, cause: str, *, clock: Clock) -> Decision:
        """End a running execution with `error` and `cause`; a finished one is left as it is.

        The last resort of a caller that cannot move the execution on any other way
        (its history no longer replays, say).
        """
        return Decider(self.state, clock, SeededEntropy(0)).fail(error, cause)

    def task_for_token(self, token: str) -> PendingTask:
        """The pending task a callback token answers.

        Raises InvalidToken for a token of another execution or one that names a waiting
        task without its secret, TaskNotPending for a task that already finished (AWS
        answers TaskTimedOut).
        """
        ref = decode_token(token)
        if ref.execution_arn != self.state.execution_arn:
            raise InvalidToken("Invalid Token: it belongs to another execution")
        task = self.state.tasks.get(ref.task_id)
        if task is None:
            raise TaskNotPending("Task Timed Out: the task for this token is no longer pending")
        # Each scheduling of a task gets its own task id, so a token naming a waiting task
        # but not matching it was never handed out: forged, not stale.
        if task.token is None or not hmac.compare_digest(task.token, token):
            raise InvalidToken("Invalid Token: it does not match the waiting task's token")
        return task

    @property
    def status(self) -> str:
        return self.state.status

    @property
    def output(self) -> Any:
        return self.state.output

    @property
    def error(self) -> str | None:
        return self.state.error

    @property
    def cause(self) -> str | None:
        return self.state.cause

    @property
    def version(self) -> int:
        """The id of the last event applied: the history's length."""
        return self.state.last_event_id

    def timers(self) -> list[Timer]:
        return sorted(self.state.timers.values(), key=lambda timer: timer.due_at)

    def pending_tasks(self) -> list[PendingTask]:
        return list(self.state.tasks.values())


class TaskNotPending(LookupError):
    """A callback for a task that already finished, failed or timed out (AWS: TaskTimedOut)."""
