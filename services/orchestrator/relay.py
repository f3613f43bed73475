"""The outbox relay: publishes what appends committed, in order, then marks it published.

The orchestrator hands the relay the outbox rows of each append it commits, so they are
published at once, in commit order, without being read back. The store is still the
truth: rows that no live process is going to publish (those of an orchestrator that
died, or of one whose publishing failed) are found by a sweep of ``pending_outbox``
that takes only rows older than a grace period, leaving young rows to the replica that
wrote them. Several replicas therefore do not publish each other's messages, except
the rows a replica leaves behind.

A crash between publishing and marking publishes a message twice; every consumer is
idempotent (workers on the idempotency key, the orchestrator on the pending task), so
at-least-once is enough.

A row the producer refuses for good (too large for a record) would be retried forever
and hold back every row after it; it goes to the dead-letter topic instead, bounded and
with the reason, and counts as done. Any other failure (a broker away) is retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from stepstream.messaging.bus import MessagesRejected, Outgoing, Publisher, Record
from stepstream.messaging.dead_letter import send_to_dead_letter
from stepstream.observability import metrics
from stepstream.store.base import Outbox
from stepstream.store.prepare import utc_now
from stepstream.store.records import PendingMessage

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        store: Outbox,
        publisher: Publisher,
        dead_letter_topic: str | None = None,
        batch_size: int = 500,
        sweep_seconds: float = 1.0,
        grace_seconds: float = 3.0,
        retry_seconds: float = 0.5,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.dead_letter_topic = dead_letter_topic
        self.dead_lettered = 0
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.grace = timedelta(seconds=grace_seconds)
        self.retry_seconds = retry_seconds
        self.clock = clock
        self.published = 0
        self._queue: deque[PendingMessage] = deque()
        self._queued_ids: set[int] = set()
        self._wake = asyncio.Event()
        # After a failed publish, rows up to this id are swept whatever their age: they
        # were this relay's to publish, and nobody else will before the grace is over.
        self._catch_up_to: int | None = None

    def submit(self, rows: Sequence[PendingMessage]) -> None:
        """Publish these committed outbox rows soon, after those submitted before."""
        if rows:
            self._queue.extend(rows)
            self._queued_ids.update(p.id for p in rows)
            self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def relay_submitted(self) -> int:
        """Publish one batch of submitted rows; returns how many."""
        batch = [self._queue.popleft() for _ in range(min(self.batch_size, len(self._queue)))]
        if not batch:
            return 0
        self._queued_ids.difference_update(p.id for p in batch)
        try:
            await self._publish(batch)
        except Exception:
            # Everything not yet published is in the store: hand it all to the sweep, so
            # that one execution's messages still go out in order.
            newest = max(p.id for p in (*batch, *self._queue))
            self._queue.clear()
            self._queued_ids.clear()
            self._catch_up_to = max(newest, self._catch_up_to or 0)
            raise
        return len(batch)

    async def sweep(self) -> int:
        """Publish one batch of rows nobody else will: past the grace, or left to catch up."""
        cutoff = self.clock() - self.grace
        catch_up = self._catch_up_to or 0
        pending = await self.store.pending_outbox(self.batch_size)
        # The store's unpublished rows (up to a page), whichever replica wrote them.
        metrics.OUTBOX_DEPTH.set(len(pending))
        due = [
            p
            for p in pending
            if p.id not in self._queued_ids and (p.recorded_at <= cutoff or p.id <= catch_up)
        ]
        if due:
            await self._publish(due)
        # Rows come lowest id first: a short page, or one that went past the mark, held
        # every row up to it.
        if len(pending) < self.batch_size or (pending and pending[-1].id > catch_up):
            self._catch_up_to = None
        return len(due)

    async def _publish(self, rows: list[PendingMessage]) -> None:
        try:
            await self.publisher.publish_batch(
                [
                    Outgoing(p.message.topic, p.message.key, p.message.value, p.message.headers)
                    for p in rows
                ]
            )
        except MessagesRejected as exc:
            if self.dead_letter_topic is None:
                raise
            for index, reason in sorted(exc.reasons.items()):
                await self._set_aside(rows[index], reason)
        await self.store.mark_published([p.id for p in rows])
        self.published += len(rows)
        metrics.OUTBOX_PUBLISHED.inc(len(rows))

    async def _set_aside(self, row: PendingMessage, reason: str) -> None:
        assert self.dead_letter_topic is not None
        message = row.message
        # Never on the broker, so no partition; the offset names the outbox row instead.
        record = Record(message.topic, -1, row.id, message.key, message.value, message.headers)
        await send_to_dead_letter(
            self.publisher,
            self.dead_letter_topic,
            record,
            f"outbox row {row.id} cannot be published: {reason}",
        )
        self.dead_lettered += 1

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()  # at start: what an earlier incarnation left behind
        while True:
            self._wake.clear()
            try:
                if self._catch_up_to is not None or loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.sweep_seconds
                    while await self.sweep() == self.batch_size:
                        pass  # a backlog: the next page is due too
                while await self.relay_submitted():
                    pass
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(self.retry_seconds)
                continue
            timeout = max(0.0, next_sweep - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
