"""The orchestrator's intake: many executions at once, each execution's messages in order.

Handling one message is a store transaction; handling them one after another leaves the
store and the broker idle most of the time. Messages are keyed by execution ARN, so the
library's consumer loop, ordered by key, chains those of one execution (each waits for
the one before it) while different executions proceed side by side. Offsets are
committed on a short interval, never past a message still being handled, so a crash
redelivers only what was not finished.
"""

from __future__ import annotations

from stepstream.messaging.bus import Publisher, Subscriber
from stepstream.messaging.consumer import Consumer
from stepstream.messaging.dead_letter import Handler


def intake(
    subscriber: Subscriber,
    handler: Handler,
    *,
    dead_letter: Publisher,
    dead_letter_topic: str,
    consumer_group: str,
    concurrency: int = 256,
    commit_interval: float = 0.05,
) -> Consumer:
    """The orchestrator's consumer of requests and replies; ``run()`` it."""
    return Consumer(
        subscriber,
        handler,
        dead_letter=dead_letter,
        dead_letter_topic=dead_letter_topic,
        consumer_group=consumer_group,
        concurrency=concurrency,
        ordered_by_key=True,
        commit_interval=commit_interval,
        name="orchestrator intake",
    )
