"""Running one handler and turning whatever happens into a reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from stepstream.asl.retry_after import hint_of
from stepstream.messaging.contracts import TaskFailedReply, TaskReply, TaskSucceededReply
from stepstream.worker.context import CommandContext

log = logging.getLogger(__name__)

CommandHandler = Callable[[CommandContext], Awaitable[Any]]
UNKNOWN_COMMAND = "UnknownCommand"


def failure_reply(exc: BaseException) -> TaskFailedReply:
    """A failed reply named after the exception's class, as Lambda names errors.

    An exception's ``retry_after_seconds`` (a Retry-After its handler was sent) rides along
    as the reply's hint; one that is not a usable number of seconds is left out.
    """
    return TaskFailedReply(
        error=type(exc).__name__,
        cause=str(exc),
        retriable=_retriable(exc),
        retry_after_seconds=hint_of(exc),
    )


def _retriable(exc: BaseException) -> bool | None:
    """What the exception's class says of retrying; None from one that says nothing."""
    retriable = getattr(type(exc), "retriable", None)
    return retriable if isinstance(retriable, bool) else None


def unknown_command_reply(command: str, known: list[str]) -> TaskFailedReply:
    return TaskFailedReply(
        error=UNKNOWN_COMMAND,
        cause=f"no handler for command {command!r}; this worker handles {sorted(known)}",
        retriable=False,
    )


async def execute(
    handler: CommandHandler, context: CommandContext, *, heartbeat_every: float | None
) -> TaskReply | None:
    """Run ``handler`` within the command's timeout, heartbeating if it asks for it.

    None when the command's time-out passed: the handler is stopped to free its slot, and
    the orchestrator, whose timer fired at the same moment, records the time-out itself
    (TaskTimedOut, as Step Functions does); an answer now would only race it.
    """
    timeout = context.command.timeout_seconds
    async with _heartbeats(context, heartbeat_every):
        try:
            async with asyncio.timeout(timeout) as deadline:
                output = await handler(context)
        except TimeoutError as exc:
            if not deadline.expired():
                return failure_reply(exc)
            log.info("command %s ran past its %ss time-out; stopped", context.command_id, timeout)
            return None
        except Exception as exc:
            # A named task error (its class says whether it is retriable) is the
            # handler's answer, an order refused say: one line. Anything else is a fault,
            # logged with its traceback.
            log.warning(
                "command %s (%s) of execution %s failed: %s: %s",
                context.command_id,
                context.name,
                context.execution_id,
                type(exc).__name__,
                exc,
                exc_info=_retriable(exc) is None,
            )
            return failure_reply(exc)
    return TaskSucceededReply(output=output)


@contextlib.asynccontextmanager
async def _heartbeats(context: CommandContext, every: float | None) -> AsyncIterator[None]:
    if every is None:
        yield
        return
    beating = asyncio.create_task(_beat(context, every))
    try:
        yield
    finally:
        beating.cancel()
        # wait() rather than await: the beat's cancellation must not hide our own.
        await asyncio.wait({beating})


async def _beat(context: CommandContext, every: float) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            await context.heartbeat()
        except Exception:
            # A missed heartbeat is not fatal: the next one, or the reply, may get through.
            log.warning("heartbeat for command %s failed", context.command_id, exc_info=True)
