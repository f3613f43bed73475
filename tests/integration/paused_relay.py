"""The orchestrator, with its outbox relay pausing between publishing a batch and marking it.

    python -m tests.integration.paused_relay     (the orchestrator's settings, and:)
    STEPSTREAM_TEST_PAUSE_MARKER   a file that exists while the relay is paused

A kill -9 while the marker exists lands after the broker acknowledged a batch and before
the store recorded it as published: the next orchestrator sends those messages again.
Left to timing, that window is a fraction of a millisecond, and a test waiting for it
waits in vain; the pause holds it open, and nothing else in the process is changed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.orchestrator import app
from services.orchestrator.relay import OutboxRelay

# Long enough for a test polling every few milliseconds to see it and kill, on a busy machine.
PAUSE_SECONDS = 1.0


class PausingOutbox:
    """The relay's store, holding each batch between published and marked."""

    def __init__(self, store: Any, marker: Path) -> None:
        self._store = store
        self._marker = marker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def mark_published(self, ids: Sequence[int]) -> None:
        # Every batch, however small: what the relay publishes next waits meanwhile, so
        # the store holds a large unmarked backlog at every pause once orders flow.
        self._marker.write_text(f"{len(ids)} rows published, not marked\n")
        await asyncio.sleep(PAUSE_SECONDS)
        self._marker.unlink(missing_ok=True)
        await self._store.mark_published(ids)


def main() -> None:
    marker = Path(os.environ["STEPSTREAM_TEST_PAUSE_MARKER"])
    relay_init = OutboxRelay.__init__

    def init(self: OutboxRelay, *, store: Any, **options: Any) -> None:
        relay_init(self, store=PausingOutbox(store, marker), **options)

    OutboxRelay.__init__ = init  # type: ignore[method-assign]
    app.main()


if __name__ == "__main__":
    main()
