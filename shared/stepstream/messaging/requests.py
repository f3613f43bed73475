"""Requests to the orchestrator, carried on its requests topic.

Each is keyed by the ARN of what it changes: an execution's, or for ``CreateStateMachine``
the state machine's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from stepstream.messaging.text import StorableText


class _Request(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    KIND: ClassVar[str]


class StartExecution(_Request):
    KIND: ClassVar[str] = "execution.start"

    state_machine: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: Any = None
    # The version to run (a version ARN was given); the latest when None.
    version: int | None = Field(default=None, ge=1)


class StopExecution(_Request):
    KIND: ClassVar[str] = "execution.stop"

    error: StorableText | None = None
    cause: StorableText | None = None


class RedriveExecution(_Request):
    """Resume a failed, timed-out or aborted execution; the same token again is one redrive."""

    KIND: ClassVar[str] = "execution.redrive"

    client_token: str = Field(min_length=1, max_length=64)


class SendTaskSuccess(_Request):
    KIND: ClassVar[str] = "callback.success"

    task_token: str = Field(min_length=1)
    output: Any = None


class SendTaskFailure(_Request):
    KIND: ClassVar[str] = "callback.failure"

    task_token: str = Field(min_length=1)
    error: StorableText = ""
    cause: StorableText = ""


class SendTaskHeartbeat(_Request):
    KIND: ClassVar[str] = "callback.heartbeat"

    task_token: str = Field(min_length=1)


class CreateStateMachine(_Request):
    """Register a definition with its bindings (both JSON text), as create-state-machine."""

    KIND: ClassVar[str] = "state-machine.create"

    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    bindings: str = Field(min_length=1)


class DeleteStateMachine(_Request):
    """Delete a state machine by name; its running executions go on with their version."""

    KIND: ClassVar[str] = "state-machine.delete"

    name: str = Field(min_length=1)


class TimerDue(_Request):
    """A durable timer came due (sent by the timer loop to the execution's owner)."""

    KIND: ClassVar[str] = "timer.due"

    timer_id: str = Field(min_length=1)


REQUESTS: dict[str, type[_Request]] = {
    model.KIND: model
    for model in (
        StartExecution,
        StopExecution,
        RedriveExecution,
        SendTaskSuccess,
        SendTaskFailure,
        SendTaskHeartbeat,
        TimerDue,
        CreateStateMachine,
        DeleteStateMachine,
    )
}
