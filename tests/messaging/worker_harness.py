"""Drives a worker from the outside: sends commands, reads replies and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from stepstream.messaging.bus import Bus, ManagedPublisher
from stepstream.messaging.contracts import TaskCommand, command_envelope
from stepstream.messaging.dead_letter import DeadLetter
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.topics import Topics
from stepstream.worker import Worker
from tests.messaging.support import Collector, eventually, unique


class Harness:
    """The orchestrator's side of a worker's conversation, for one test."""

    def __init__(self, *, bus: Bus, topics: Topics, service: str) -> None:
        self.topics = topics
        self.service = service
        self._bus = bus
        self._publisher: ManagedPublisher | None = None
        self._replies: Collector | None = None
        self._dead: Collector | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Harness]:
        self._publisher = self._bus.publisher()
        replies = self._bus.subscriber([self.topics.replies()], group_id=unique("replies"))
        dead = self._bus.subscriber([self.topics.dead_letter()], group_id=unique("dead"))
        # Joining a group takes the embedded broker a while; join both at once.
        await asyncio.gather(self._publisher.start(), replies.start(), dead.start())
        self._replies, self._dead = Collector(replies), Collector(dead)
        self._replies.start()
        self._dead.start()
        try:
            yield self
        finally:
            await self._replies.stop()
            await self._dead.stop()
            await replies.stop()
            await dead.stop()
            await self._publisher.stop()

    async def send(
        self,
        input: Any = None,
        *,
        command: str | None = None,
        execution_id: str = "exec-1",
        **options: Any,
    ) -> Envelope:
        """Send a task command to the service; return its envelope."""
        payload = TaskCommand(
            resource="arn:aws:states:::lambda:invoke",
            command=command or self.service,
            input=input,
            **options,
        )
        command_id = uuid.uuid4().hex
        envelope = command_envelope(
            payload,
            execution_id=execution_id,
            command_id=command_id,
            idempotency_key=f"{execution_id}/{command_id}",
        )
        assert self._publisher is not None
        await self._publisher.publish(self.topics.commands(self.service), execution_id, envelope)
        return envelope

    async def send_raw(self, value: bytes, key: bytes = b"exec-1") -> None:
        assert self._publisher is not None
        await self._publisher.publish_raw(self.topics.commands(self.service), key, value, ())

    def replies_to(self, command: Envelope) -> list[Envelope]:
        assert self._replies is not None
        everything = (decode(record.value) for record in self._replies.records)
        return [reply for reply in everything if reply.command_id == command.command_id]

    async def reply(self, command: Envelope, kind: str = "") -> Envelope:
        """The first reply to ``command`` (of ``kind`` if given), waiting for it."""

        def found() -> Envelope | None:
            for reply in self.replies_to(command):
                if not kind or reply.kind == kind:
                    return reply
            return None

        return await eventually(found)

    async def dead_letters(self, count: int) -> list[DeadLetter]:
        assert self._dead is not None
        records = await self._dead.wait_for(count)
        return [DeadLetter.from_record(record) for record in records]


@contextlib.asynccontextmanager
async def serving(worker: Worker) -> AsyncIterator[Worker]:
    """Runs ``worker`` for the duration of a with-block."""
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
