"""The worker kit: consume a service's command topic, run handlers, reply, commit.

At-least-once: a command's offset is committed only after its reply is published, so a
worker that dies mid-command leaves the command to be delivered again to the next worker
of its group. Handlers must therefore be idempotent on the command's idempotency key.

Commands are consumed by the library's one consumer loop (``stepstream.messaging.consumer``):
up to ``concurrency`` at once, offsets committed on a short interval and once more on stop.
A crash redelivers at most that interval's worth of finished commands, which idempotent
handlers answer again without redoing them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from opentelemetry.trace import SpanKind
from pydantic_core import PydanticSerializationError

from stepstream.asl import errors
from stepstream.messaging.bus import Bus, ManagedPublisher, ManagedSubscriber, Record
from stepstream.messaging.consumer import Consumer
from stepstream.messaging.contracts import (
    TaskFailedReply,
    TaskHeartbeatReply,
    TaskReply,
    parse_command,
    reply_envelope,
)
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope, MalformedMessage, MessageTooLarge, encode
from stepstream.messaging.patience import until_published
from stepstream.messaging.topics import Topics
from stepstream.observability import metrics, tracing
from stepstream.observability.logs import log_context
from stepstream.worker.context import CommandContext
from stepstream.worker.execution import CommandHandler, execute, unknown_command_reply
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
        self._consumer: Consumer | None = None  # the latest; kept after a stop for wait()
        self._running = False

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
        return 0 if self._consumer is None else self._consumer.in_flight

    async def start(self) -> None:
        """Join the consumer group and begin handling commands."""
        if self._running:
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
        self._consumer = Consumer(
            self._subscriber,
            self._dispatch,
            dead_letter=self._publisher,
            dead_letter_topic=self.topics.dead_letter(),
            consumer_group=self.group_id,
            max_bytes=self.settings.max_message_bytes,
            concurrency=self.settings.concurrency,
            commit_interval=self.settings.commit_interval_seconds,
            name=f"worker {self.name}",
        )
        self._consumer.start()
        self._running = True
        log.info("worker %s consuming %s as %s", self.name, self.command_topic, self.group_id)

    async def stop(self, *, grace_seconds: float = 0.0) -> None:
        """Stop taking commands; cancel those still running after ``grace_seconds``.

        A cancelled command is neither answered nor committed: it will be delivered again.
        """
        if not self._running or self._consumer is None:
            return
        self._running = False
        await self._consumer.stop(grace_seconds=grace_seconds)
        if self._subscriber is not None:
            await self._subscriber.stop()
        if self._publisher is not None:
            await self._publisher.stop()
        log.info("worker %s stopped", self.name)

    async def wait(self) -> None:
        """Return when the worker stops; raise what made it stop, if it failed."""
        if self._consumer is None:
            raise RuntimeError(f"worker {self.name!r} is not started")
        await self._consumer.wait()

    async def run(self) -> None:
        """Start, handle commands until cancelled or failed, then stop."""
        await self.start()
        try:
            await self.wait()
        finally:
            await self.stop()

    async def _dispatch(self, envelope: Envelope, record: Record) -> None:
        try:
            command = parse_command(envelope)
        except MalformedMessage as exc:
            raise PoisonMessage(exc.reason) from None

        async def heartbeat() -> None:
            await self._reply(envelope, TaskHeartbeatReply())

        context = CommandContext(envelope, command, heartbeat)
        handler = self._handlers.get(command.command)
        with (
            log_context(
                execution_arn=envelope.execution_id,
                command_id=envelope.command_id,
                resource=command.command,
            ),
            tracing.span(f"task {command.command}", parent=envelope.trace, kind=SpanKind.CONSUMER),
        ):
            reply: TaskReply | None
            if handler is None:
                reply = unknown_command_reply(command.command, list(self._handlers))
            else:
                every = command.heartbeat_seconds / 2 if command.heartbeat_seconds else None
                started = time.monotonic()
                reply = await execute(handler, context, heartbeat_every=every)
                outcome = "timed_out" if reply is None else reply.KIND.removeprefix("task.")
                metrics.TASK_SECONDS.labels(command.command, outcome).observe(
                    time.monotonic() - started
                )
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
