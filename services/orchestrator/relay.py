"""The outbox relay: publishes what appends committed, in order, then marks it published.

A crash between publishing and marking publishes a message twice; every consumer is
idempotent (workers on the idempotency key, the orchestrator on the pending task), so
at-least-once is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from stepstream.messaging.bus import Outgoing, Publisher
from stepstream.store.base import ExecutionStore

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        store: ExecutionStore,
        publisher: Publisher,
        wake: asyncio.Event,
        batch_size: int = 500,
        idle_seconds: float = 0.05,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.wake = wake
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.published = 0

    async def relay_once(self) -> int:
        """Publish one batch of pending messages; returns how many."""
        pending = await self.store.pending_outbox(self.batch_size)
        if not pending:
            return 0
        await self.publisher.publish_batch(
            [
                Outgoing(p.message.topic, p.message.key, p.message.value, p.message.headers)
                for p in pending
            ]
        )
        await self.store.mark_published([p.id for p in pending])
        self.published += len(pending)
        return len(pending)

    async def run(self) -> None:
        while True:
            self.wake.clear()
            try:
                sent = await self.relay_once()
            except Exception:
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if sent < self.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.idle_seconds)
