"""Sending again while the broker is away, instead of giving up on the message.

A consumer that has done a command's work must get its reply (or a dead letter) to the
broker; dying because the broker is restarting would only make the next incarnation do
the work again. ``PublishFailed`` is the port's word for "not now", so it is waited out
with a capped back-off; any other error still propagates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from stepstream.messaging.bus import PublishFailed

log = logging.getLogger(__name__)


async def until_published(
    send: Callable[[], Awaitable[None]],
    what: str,
    *,
    first_pause: float = 0.05,
    longest_pause: float = 2.0,
) -> None:
    """Call ``send`` until it no longer raises ``PublishFailed``; cancelling stops it."""
    pause = first_pause
    while True:
        try:
            await send()
            return
        except PublishFailed as exc:
            log.warning("%s not sent (%s); sending it again in %.2fs", what, exc, pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, longest_pause)
