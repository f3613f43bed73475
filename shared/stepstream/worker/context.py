"""What a handler is given: the command, and a way to say it is still working."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from stepstream.messaging.contracts import TaskCommand
from stepstream.messaging.envelope import Envelope


@dataclass(frozen=True)
class CommandContext:
    """One task command as a handler sees it.

    Handlers run at least once per command and may run again after a crash, so anything
    they change outside should be keyed by ``idempotency_key``.
    """

    envelope: Envelope
    command: TaskCommand
    _send_heartbeat: Callable[[], Awaitable[None]] = field(repr=False, compare=False)

    @property
    def input(self) -> Any:
        return self.command.input

    @property
    def name(self) -> str:
        """The command name the handler was registered for."""
        return self.command.command

    @property
    def resource(self) -> str:
        return self.command.resource

    @property
    def task_token(self) -> str | None:
        return self.command.task_token

    @property
    def execution_id(self) -> str:
        return self.envelope.execution_id

    @property
    def command_id(self) -> str:
        # parse_command refuses commands without an id, so one is always there.
        return self.envelope.command_id or ""

    @property
    def idempotency_key(self) -> str | None:
        return self.envelope.idempotency_key

    @property
    def attempt(self) -> int:
        return self.envelope.attempt

    async def heartbeat(self) -> None:
        """Tell the orchestrator now that the task is alive."""
        await self._send_heartbeat()
