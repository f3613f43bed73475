"""Running a service process: settings, signals, the worker's life, a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from services.common.inputs import describe
from stepstream import event_loop
from stepstream.heap import tune_for_service
from stepstream.messaging.bus import Bus
from stepstream.messaging.consumer import consume
from stepstream.messaging.dead_letter import Handler
from stepstream.observability.process import observed, setup_logging
from stepstream.observability.settings import ObservabilitySettings
from stepstream.worker import Worker

S = TypeVar("S", bound=BaseSettings)

log = logging.getLogger(__name__)

# Commands still running when asked to stop get this long to answer.
STOP_GRACE_SECONDS = 5.0


class ConfigurationError(ValueError):
    """Settings that cannot work together, found before the service starts."""


async def serve_worker(worker: Worker, stop: asyncio.Event) -> None:
    """Run ``worker`` until ``stop`` is set or the worker fails (which is then raised)."""
    await worker.start()
    try:
        stopping = asyncio.create_task(stop.wait())
        failing = asyncio.create_task(worker.wait())
        done, pending = await asyncio.wait({stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if failing in done:
            failing.result()
    finally:
        await worker.stop(grace_seconds=STOP_GRACE_SECONDS)


# HTTP clients that log every request at INFO: a line per Stripe or carrier call cost
# charge-payment about a tenth of its CPU (py-spy, benchmarks/fulfilment.py) and drowned
# the stack's own messages. Their warnings and errors still show.
PER_REQUEST_LOGGERS = ("httpx", "httpcore", "stripe")


def quiet_per_request_loggers(level: str) -> None:
    """Keep the HTTP clients' per-request lines out of the log unless DEBUG is asked."""
    if level != "DEBUG":
        for name in PER_REQUEST_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def run_service(
    name: str, load: Callable[[], S], serve: Callable[[S, asyncio.Event], Awaitable[None]]
) -> int:
    """Load the settings, serve until SIGINT or SIGTERM, and return the exit status."""
    try:
        observability = ObservabilitySettings()
        setup_logging(name, observability)
        quiet_per_request_loggers(observability.log_level)
        settings = load()
    except ValidationError as exc:
        print(f"{name}: bad setting: {describe(exc)}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    try:
        event_loop.run(_serve_until_signalled(name, settings, serve, observability))
    except event_loop.UnknownEventLoop as exc:
        print(f"{name}: bad setting: {exc}", file=sys.stderr)
        return 2
    except ConfigurationError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    return 0


async def _serve_until_signalled(
    name: str,
    settings: S,
    serve: Callable[[S, asyncio.Event], Awaitable[None]],
    observability: ObservabilitySettings,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    log.info("%s starting", name)
    async with observed(name, observability):
        tune_for_service()
        await serve(settings, stop)
    log.info("%s stopped", name)


async def consume_until(
    bus: Bus,
    sources: Sequence[str],
    group_id: str,
    handler: Handler,
    *,
    dead_letter_topic: str,
    max_bytes: int,
    stop: asyncio.Event,
    concurrency: int = 1,
) -> None:
    """Consume ``sources`` in ``group_id`` until ``stop`` is set or the handler fails.

    ``concurrency`` records of different keys are handled at once (see ``consume``).
    """
    publisher = bus.publisher()
    subscriber = bus.subscriber(sources, group_id=group_id)
    await publisher.start()
    try:
        await subscriber.start()
        consuming = asyncio.create_task(
            consume(
                subscriber,
                handler,
                dead_letter=publisher,
                dead_letter_topic=dead_letter_topic,
                max_bytes=max_bytes,
                consumer_group=group_id,
                concurrency=concurrency,
            )
        )
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({consuming, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (consuming, stopping):
                task.cancel()
            await asyncio.gather(consuming, stopping, return_exceptions=True)
        if not consuming.cancelled():
            consuming.result()  # a handler's error, raised here so that the process exits
    finally:
        await subscriber.stop()
        await publisher.stop()
