"""Helpers for the messaging tests: waiting with a deadline, collecting records."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TypeVar

from stepstream.messaging.bus import Record, Subscriber

DEADLINE = 20.0

T = TypeVar("T")


async def eventually(probe: Callable[[], T | None], *, timeout: float = DEADLINE) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        await asyncio.sleep(0.01)


def unique(stem: str) -> str:
    """A name no other test uses, so tests can share one broker."""
    return f"{stem}-{uuid.uuid4().hex[:10]}"


class Collector:
    """Reads a subscriber in the background into ``records``, committing if asked."""

    def __init__(self, subscriber: Subscriber, *, commit: bool = False) -> None:
        self.records: list[Record] = []
        self._subscriber = subscriber
        self._commit = commit
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        async for record in self._subscriber:
            self.records.append(record)
            if self._commit:
                await self._subscriber.commit(record)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait_for(self, count: int, *, timeout: float = DEADLINE) -> list[Record]:
        """At least ``count`` records, waiting for them; surfaces a failed reader."""

        def enough() -> list[Record] | None:
            if self._task is not None and self._task.done():
                self._task.result()
            return self.records if len(self.records) >= count else None

        return await eventually(enough, timeout=timeout)


@contextlib.asynccontextmanager
async def collecting(subscriber: Subscriber, *, commit: bool = False) -> AsyncIterator[Collector]:
    collector = Collector(subscriber, commit=commit)
    collector.start()
    try:
        yield collector
    finally:
        await collector.stop()


async def receive(subscriber: Subscriber, count: int, *, timeout: float = DEADLINE) -> list[Record]:
    """The next ``count`` records of ``subscriber``, without committing them."""
    records: list[Record] = []
    iterator = aiter(subscriber)
    async with asyncio.timeout(timeout):
        while len(records) < count:
            records.append(await anext(iterator))
    return records


def values(records: Sequence[Record]) -> list[bytes]:
    return [record.value for record in records]
