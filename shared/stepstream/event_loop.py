"""The event loop every stepstream process runs on: uvloop's, or asyncio's own if asked.

A process here spends much of its CPU in the event loop itself: waking tasks, polling
sockets, writing to transports (py-spy on the pipeline benchmark's workers under load:
41% in asyncio, 32% in aiokafka). uvloop runs the same asyncio programs on libuv, with
the loop and its transports in C. In ``benchmarks/pipeline.py`` it gave 271 to 288
orders/s against 207 to 258, and 5.2 to 5.6 ms of CPU per order against 6.0 to 7.5
(README, Speed).

``STEPSTREAM_EVENT_LOOP=asyncio`` runs a process on asyncio's own loop instead: to rule
the loop out when chasing a fault, or where uvloop is not installed (it has no build
for Windows).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

VARIABLE = "STEPSTREAM_EVENT_LOOP"
CHOICES = ("uvloop", "asyncio")


class UnknownEventLoop(ValueError):
    """The setting names no event loop this process can run on."""


def loop_factory(choice: str | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """What makes the chosen loop (None: asyncio's own); the choice defaults to the setting."""
    chosen = (choice if choice is not None else os.environ.get(VARIABLE, "")).strip().lower()
    if chosen in ("", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if chosen == "uvloop":
                raise UnknownEventLoop(
                    f"{VARIABLE}=uvloop, but uvloop is not installed here"
                ) from None
            return None  # not asked for by name: asyncio's own loop serves
        factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
        return factory
    if chosen == "asyncio":
        return None
    raise UnknownEventLoop(f"{VARIABLE}={chosen!r} is not one of {', '.join(CHOICES)}")


def run(main: Coroutine[Any, Any, T], *, choice: str | None = None) -> T:
    """Run ``main`` to its end on the chosen event loop, as ``asyncio.run`` does."""
    try:
        factory = loop_factory(choice)
    except UnknownEventLoop:
        main.close()  # never awaited: say so quietly rather than warn about it
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
