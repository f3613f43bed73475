"""The orchestrator's intake: many executions at once, each execution's messages in order.

Handling one message is a store transaction; handling them one after another leaves the
store and the broker idle most of the time. Messages are keyed by execution ARN, so those
of one execution are chained (each waits for the one before it) while different
executions proceed side by side. Offsets are committed on a short interval, never past a
message still being handled, so a crash redelivers only what was not finished.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging

from stepstream.messaging.bus import CommitFailed, Publisher, Record, Subscriber
from stepstream.messaging.dead_letter import Handler, handle_record
from stepstream.worker.offsets import OffsetTracker, Ticket

log = logging.getLogger(__name__)


class Intake:
    def __init__(
        self,
        subscriber: Subscriber,
        handler: Handler,
        *,
        dead_letter: Publisher,
        dead_letter_topic: str,
        consumer_group: str,
        concurrency: int = 256,
        commit_interval: float = 0.05,
    ) -> None:
        self.subscriber = subscriber
        self.handler = handler
        self.dead_letter = dead_letter
        self.dead_letter_topic = dead_letter_topic
        self.consumer_group = consumer_group
        self.commit_interval = commit_interval
        self._slots = asyncio.Semaphore(concurrency)
        self._tracker = OffsetTracker()
        self._chains: dict[bytes | None, asyncio.Task[None]] = {}
        self._to_commit: dict[tuple[str, int], Record] = {}
        self._failure: BaseException | None = None

    async def run(self) -> None:
        """Consume until the subscriber stops; a handler's unexpected error ends the run."""
        committer = asyncio.create_task(self._commit_periodically())
        try:
            async for record in self.subscriber:
                if self._failure is not None:
                    break
                await self._slots.acquire()
                self._start(record)
            await asyncio.gather(*self._chains.values(), return_exceptions=True)
            await self._commit_now()
        finally:
            committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committer
        if self._failure is not None:
            raise self._failure

    def _start(self, record: Record) -> None:
        ticket = self._tracker.track(record)
        previous = self._chains.get(record.key)
        task = asyncio.create_task(self._handle(record, ticket, previous))
        self._chains[record.key] = task
        task.add_done_callback(functools.partial(self._forget_chain, record.key))

    def _forget_chain(self, key: bytes | None, done: asyncio.Task[None]) -> None:
        if self._chains.get(key) is done:
            del self._chains[key]

    async def _handle(
        self, record: Record, ticket: Ticket, previous: asyncio.Task[None] | None
    ) -> None:
        try:
            if previous is not None:
                await asyncio.wait([previous])
            await handle_record(
                record,
                self.handler,
                dead_letters=self.dead_letter,
                dead_letter_topic=self.dead_letter_topic,
                consumer_group=self.consumer_group,
            )
        except Exception as exc:
            # Unfinished, so never committed: the next incarnation receives it again.
            log.exception(
                "handling %s[%d]@%d failed", record.topic, record.partition, record.offset
            )
            self._failure = exc
            return
        finally:
            self._slots.release()
        self._tracker.finish(ticket)
        committable = self._tracker.take_commit(ticket)
        if committable is not None:
            self._to_commit[(committable.topic, committable.partition)] = committable

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.commit_interval)
            await self._commit_now()

    async def _commit_now(self) -> None:
        pending, self._to_commit = self._to_commit, {}
        for record in pending.values():
            try:
                await self.subscriber.commit(record)
            except CommitFailed as exc:
                log.info("commit skipped after a rebalance: %s", exc)
