"""The interfaces of the execution store, one per kind of user.

One store holds, per execution, an append-only stream of history events and, kept in
the same transaction as each append, everything that must change with them: the
outbox of messages to publish, the durable timers and the executions index. It also
keeps the versioned state machine registry.

The orchestrator is the only process that writes the store, executions and state machines
alike; it holds the whole ``ExecutionStore``. Every other process (the API client, the
review desk, the order view, the command line, the stack) reads through
``ExecutionReader`` and opens the store with ``open_reader``; it asks the orchestrator
for changes, registering a state machine included.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from stepstream.store.prepare import PreparedAppend, prepare_append
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    NewEvent,
    OutboxMessage,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)


class ExecutionReader(Protocol):
    """What a process other than the orchestrator may ask: executions, histories, machines."""

    async def read(self, stream_id: str, after_version: int = 0) -> Sequence[StoredEvent]:
        """The stream's events with a version above ``after_version``, oldest first."""
        ...

    async def get_execution(self, execution_arn: str) -> ExecutionRecord | None:
        """The index row of one execution, or None."""
        ...

    async def list_executions(
        self,
        state_machine_name: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        *,
        after: ListPosition | None = None,
        redriven: bool | None = None,
    ) -> list[ExecutionRecord]:
        """Executions, newest start first, optionally of one machine and one status.

        With ``after`` (where the previous page ended), the page that follows: paging is
        by (start date, ARN), so executions started meanwhile do not shift it. With
        ``redriven``, only those redriven at least once (True) or never (False).
        """
        ...

    async def get_state_machine(
        self, name: str, version: int | None = None
    ) -> StateMachineRecord | None:
        """One version of a state machine, or None.

        With ``version`` None, the latest version, unless the state machine was deleted.
        """
        ...

    async def list_state_machines(self) -> list[StateMachineRecord]:
        """The latest version of every state machine, by name."""
        ...


class StateMachineRegistry(Protocol):
    """Registering definitions: the orchestrator's, on a request or from its settings."""

    async def put_state_machine(self, name: str, definition: str, bindings: str) -> int:
        """Register a definition and its bindings (JSON text); return the version.

        A new version is made only when the definition or bindings differ, as JSON, from
        the latest version; otherwise the latest version number is returned. A deleted
        state machine registered again is there again, its version numbers going on.
        """
        ...

    async def delete_state_machine(self, name: str) -> bool:
        """Delete a state machine's name: it is no longer listed, found by name or started.

        Its versions stay, for the executions that ran or still run them (found by
        version). False when there was no such state machine, or it was deleted already.
        """
        ...


class Outbox(Protocol):
    """The orchestrator's relay: what is still to publish, and what went out."""

    async def pending_outbox(self, limit: int = 100) -> list[PendingMessage]:
        """Unpublished outbox messages, lowest id first.

        Ids follow append order within a stream, so one execution's messages go out in
        order. Across streams, an append that commits late may surface after higher ids.
        """
        ...

    async def mark_published(self, ids: Sequence[int]) -> None:
        """Remove published messages from the outbox; unknown ids are ignored."""
        ...


class ExecutionWriter(Protocol):
    """The orchestrator's appends: events with their outbox, timers and index row."""

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        timers_set: Sequence[Timer] = (),
        timers_cleared: Sequence[str] = (),
        execution: ExecutionRecord | None = None,
    ) -> int:
        """Append events and their side effects atomically; return the new version.

        ``expected_version`` is the version the caller's state was built from (0 for a
        new stream). Timers are cleared before timers are set, so clearing and setting one
        id re-arms it. An append without events still checks the version and writes its
        side effects, which is how pending commands are put in the outbox again.

        Raises ConcurrencyError if the stream is elsewhere, DuplicateExecutionName if the
        index already has another execution with that state machine and name; each
        writes nothing.
        """
        ...

    async def append_for_relay(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        timers_set: Sequence[Timer] = (),
        timers_cleared: Sequence[str] = (),
        execution: ExecutionRecord | None = None,
    ) -> Appended:
        """``append``, also returning the outbox rows it wrote, as ``pending_outbox`` would.

        The appender can then publish them at once instead of reading them back, and
        ``pending_outbox`` is left for what no live appender will publish.
        """
        ...

    async def due_timers(self, now: datetime, limit: int = 100) -> list[Timer]:
        """Timers due at or before ``now``, earliest first."""
        ...


class ExecutionStore(ExecutionReader, StateMachineRegistry, ExecutionWriter, Outbox, Protocol):
    """The whole store, as the orchestrator (its one writer) and the backends see it."""

    async def open(self) -> None:
        """Connect and create the schema if missing (safe to run on every start)."""
        ...

    async def close(self) -> None:
        """Release connections; the store must be opened again before further use."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class StoreBase:
    """What every backend shares: ``async with``, and both appends over one primitive.

    A backend implements ``_append_prepared``: write one checked and encoded append
    atomically, or raise what ``append`` documents.
    """

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _append_prepared(self, prepared: PreparedAppend) -> Appended:
        raise NotImplementedError

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        timers_set: Sequence[Timer] = (),
        timers_cleared: Sequence[str] = (),
        execution: ExecutionRecord | None = None,
    ) -> int:
        return (
            await self.append_for_relay(
                stream_id,
                expected_version,
                events,
                outbox=outbox,
                timers_set=timers_set,
                timers_cleared=timers_cleared,
                execution=execution,
            )
        ).version

    async def append_for_relay(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        outbox: Sequence[OutboxMessage] = (),
        timers_set: Sequence[Timer] = (),
        timers_cleared: Sequence[str] = (),
        execution: ExecutionRecord | None = None,
    ) -> Appended:
        prepared = prepare_append(
            stream_id,
            expected_version,
            events,
            outbox=outbox,
            timers_set=timers_set,
            timers_cleared=timers_cleared,
            execution=execution,
        )
        return await self._append_prepared(prepared)
