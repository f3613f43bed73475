"""The worker kit: consume a service's command topic, run handlers, reply, commit.

At-least-once: a command's offset is committed only after its reply is published, so a
worker that dies mid-command leaves the command to be delivered again to the next worker
of its group. Handlers must therefore be idempotent on the command's idempotency key.

Offsets are committed on a short interval (and once more on stop), not after every
command: a commit is a broker round trip, and one per command cost the broker more CPU
than the commands themselves. A crash redelivers at most that interval's worth of
finished commands, which idempotent handlers answer again without redoing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TypeVar

from pydantic_core import PydanticSerializationError

from stepstream.asl import errors
from stepstream.messaging.bus import Bus, CommitFailed, ManagedPublisher, ManagedSubscriber, Record
from stepstream.messaging.contracts import (
    TaskFailedReply,
    TaskHeartbeatReply,
    TaskReply,
    parse_command,
    reply_envelope,
)
from stepstream.messaging.dead_letter import PoisonMessage, handle_record
from stepstream.messaging.envelope import Envelope, MalformedMessage, MessageTooLarge, encode
from stepstream.messaging.patience import until_published
from stepstream.messaging.topics import Topics
from stepstream.worker.context import CommandContext
from stepstream.worker.execution import CommandHandler, execute, unknown_command_reply
from stepstream.worker.offsets import OffsetTracker, Ticket
from stepstream.worker.settings import WorkerSettings

log = logging.getLogger(__name__)

H = TypeVar("H", bound=CommandHandler)


class Worker:
    """A service's command consumer; register handlers, then ``run()`` (or start/stop)."""

    def __init__(
        self, *, name: str, settings: WorkerSettings | None = None, bus: Bus | None = None
    ) -> None:
        self.settings = settings or WorkerSettings()
        self.topics = Topics(self.settings.topic_prefix)
        self.name = name
        self.command_topic = self.topics.commands(name)
        self.group_id = f"{self.topics.prefix}.{name}"
        self._bus = bus
        self._handlers: dict[str, CommandHandler] = {}
        self._publisher: ManagedPublisher | None = None
        self._subscriber: ManagedSubscriber | None = None
        self._pulling: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self._to_commit: dict[tuple[str, int], Record] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._tracker = OffsetTracker()
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._commit_lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None

    def handler(self, command: str) -> Callable[[H], H]:
        """Register the decorated async function as the handler of ``command``."""
        if not command:
            raise ValueError("a command name must not be empty")
        if command in self._handlers:
            raise ValueError(f"worker {self.name!r} already has a handler for {command!r}")

        def register(function: H) -> H:
            self._handlers[command] = function
            return function

        return register

    @property
    def in_flight(self) -> int:
        """Commands being handled right now."""
        return len(self._tasks)

    async def start(self) -> None:
        """Join the consumer group and begin handling commands."""
        if self._pulling is not None:
            raise RuntimeError(f"worker {self.name!r} is already started")
        if not self._handlers:
            raise RuntimeError(f"worker {self.name!r} has no handlers registered")
        bus = self._bus or _kafka_bus(self.settings)
        self._publisher = bus.publisher()
        self._subscriber = bus.subscriber([self.command_topic], group_id=self.group_id)
        await self._publisher.start()
        try:
            await self._subscriber.start()
        except BaseException:
            await self._publisher.stop()
            raise
        self._stopping.clear()
        self._failure = None
        self._tracker = OffsetTracker()
        self._to_commit = {}
        self._pulling = asyncio.create_task(self._pull(), name=f"worker {self.name} pull")
        self._pulling.add_done_callback(self._pull_done)
        self._committing = asyncio.create_task(
            self._commit_periodically(), name=f"worker {self.name} commits"
        )
        log.info("worker %s consuming %s as %s", self.name, self.command_topic, self.group_id)

    async def stop(self, *, grace_seconds: float = 0.0) -> None:
        """Stop taking commands; cancel those still running after ``grace_seconds``.

        A cancelled command is neither answered nor committed: it will be delivered again.
        """
        pulling, self._pulling = self._pulling, None
        if pulling is None:
            return
        self._stopping.set()
        pulling.cancel()
        await asyncio.wait({pulling})
        if self._tasks and grace_seconds > 0:
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        committing, self._committing = self._committing, None
        if committing is not None:
            committing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committing
        await self._commit_now()
        if self._subscriber is not None:
            await self._subscriber.stop()
        if self._publisher is not None:
            await self._publisher.stop()
        log.info("worker %s stopped", self.name)

    async def wait(self) -> None:
        """Return when the worker stops; raise what made it stop, if it failed."""
        if self._pulling is None and not self._stopping.is_set():
            raise RuntimeError(f"worker {self.name!r} is not started")
        await self._stopping.wait()
        if self._failure is not None:
            raise self._failure

    async def run(self) -> None:
        """Start, handle commands until cancelled or failed, then stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    async def _pull(self) -> None:
        assert self._subscriber is not None
        records = aiter(self._subscriber)
        while True:
            await self._slots.acquire()
            try:
                record = await anext(records)
            except BaseException:
                self._slots.release()
                raise
            ticket = self._tracker.track(record)
            task = asyncio.create_task(self._serve(ticket), name=f"command {_where(record)}")
            self._tasks.add(task)
            task.add_done_callback(self._task_done)

    def _pull_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._fail(exc)
        else:
            self._stopping.set()  # the subscriber ended by itself

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._fail(exc)

    def _fail(self, exc: BaseException) -> None:
        log.error("worker %s failed", self.name, exc_info=exc)
        if self._failure is None:
            self._failure = exc
        self._stopping.set()
        # Take no more commands; the failed one stays uncommitted for the next worker.
        if self._pulling is not None:
            self._pulling.cancel()

    async def _serve(self, ticket: Ticket) -> None:
        assert self._publisher is not None
        await handle_record(
            ticket.record,
            self._dispatch,
            dead_letters=self._publisher,
            dead_letter_topic=self.topics.dead_letter(),
            max_bytes=self.settings.max_message_bytes,
            consumer_group=self.group_id,
        )
        self._tracker.finish(ticket)
        committable = self._tracker.take_commit(ticket)
        if committable is not None:
            self._to_commit[(committable.topic, committable.partition)] = committable

    async def _dispatch(self, envelope: Envelope, record: Record) -> None:
        try:
            command = parse_command(envelope)
        except MalformedMessage as exc:
            raise PoisonMessage(exc.reason) from None

        async def heartbeat() -> None:
            await self._reply(envelope, TaskHeartbeatReply())

        context = CommandContext(envelope, command, heartbeat)
        handler = self._handlers.get(command.command)
        reply: TaskReply | None
        if handler is None:
            reply = unknown_command_reply(command.command, list(self._handlers))
        else:
            every = command.heartbeat_seconds / 2 if command.heartbeat_seconds else None
            reply = await execute(handler, context, heartbeat_every=every)
        if reply is not None:
            await self._reply(envelope, reply)

    async def _reply(self, command: Envelope, reply: TaskReply) -> None:
        assert self._publisher is not None
        data = _encode_reply(command, reply, self.settings.max_message_bytes)
        key = command.execution_id.encode()
        publisher, topic = self._publisher, self.topics.replies()
        await until_published(
            lambda: publisher.publish_raw(topic, key, data, ()), f"reply to {command.command_id}"
        )

    async def _commit_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.settings.commit_interval_seconds)
            await self._commit_now()

    async def _commit_now(self) -> None:
        if self._subscriber is None:
            return
        async with self._commit_lock:
            pending, self._to_commit = self._to_commit, {}
            for record in pending.values():
                try:
                    await self._subscriber.commit(record)
                except CommitFailed as exc:
                    log.info("worker %s: %s; the new owner will redo it", self.name, exc)


def _encode_reply(command: Envelope, reply: TaskReply, max_bytes: int) -> bytes:
    """The reply's bytes; a reply that cannot be sent as it is becomes a failure."""
    try:
        return encode(reply_envelope(reply, to=command), max_bytes=max_bytes)
    except PydanticSerializationError as exc:
        failure = TaskFailedReply(
            error=errors.RUNTIME, cause=f"the handler's output is not JSON: {exc}"
        )
    except MessageTooLarge as exc:
        failure = TaskFailedReply(
            error=errors.DATA_LIMIT_EXCEEDED, cause=f"the handler's output is too large: {exc}"
        )
    return encode(reply_envelope(failure, to=command), max_bytes=max_bytes)


def _kafka_bus(settings: WorkerSettings) -> Bus:
    from stepstream.messaging.kafka import KafkaBus

    return KafkaBus(settings=settings.kafka)


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
