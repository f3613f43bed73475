"""The orchestrator process: consume requests and replies, relay the outbox, fire timers.

python -m services.orchestrator      (settings from STEPSTREAM_* variables)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.orchestrator.intake import intake
from services.orchestrator.orchestrator import Orchestrator
from services.orchestrator.relay import OutboxRelay
from stepstream import arns, event_loop
from stepstream.asl.ports import Clock, SystemClock
from stepstream.asl.validation import InvalidDefinition
from stepstream.bindings import Bindings, InvalidBindings, binding_topics, dumps, read_stored
from stepstream.broker.admin import DEFAULT_PARTITIONS, BrokerError, TopicSpec, ensure_topics
from stepstream.heap import tune_for_service
from stepstream.messaging.kafka import KafkaBus, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.observability.health import PROCESS_CHECKS
from stepstream.observability.process import observed, setup_logging
from stepstream.observability.settings import ObservabilitySettings
from stepstream.registration import check_state_machine
from stepstream.store.base import ExecutionStore
from stepstream.store.factory import open_store

log = logging.getLogger(__name__)


# After a broker came back empty, when to re-send the pending commands again (seconds
# after it was found empty): the first past the consumers' fetch gap patience (5 s), so
# they have passed over what was lost; the later ones for what the broker lost again in
# the minute after (measured: a consumer that restarted on a log end answered from
# behind, 10 s after the loss, and a reply that never reached the orchestrator).
RESEND_AFTER_LOSS_SECONDS = (10.0, 30.0, 60.0)


class MachineFiles(BaseModel):
    """A state machine to register at start: its name and its two files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    definition: Path
    bindings: Path


class BadStateMachine(Exception):
    """A state machine the settings name cannot be registered: the orchestrator stops."""


class OrchestratorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    store_url: str = "sqlite:///.stepstream/orchestrator.db"
    topic_prefix: str = "stepstream"
    partitions: int = Field(default=DEFAULT_PARTITIONS, ge=1)
    timer_poll_seconds: float = Field(default=0.05, gt=0)
    broker_check_seconds: float = Field(default=2.0, gt=0)
    # Messages handled at once (of different executions; one execution's stay in order).
    concurrency: int = Field(default=256, ge=1)
    # State machines registered at start (STEPSTREAM_STATE_MACHINES, JSON):
    # [{"name": ..., "definition": path, "bindings": path}, ...]
    state_machines: list[MachineFiles] = Field(default_factory=list)


async def register_state_machines(store: ExecutionStore, machines: Sequence[MachineFiles]) -> None:
    """Register the state machines the settings name, all checked before any is stored.

    Raises BadStateMachine, naming the machine and its files, if one cannot be read or
    does not hold.
    """
    checked: list[tuple[str, str, str]] = []
    for machine in machines:
        where = f"state machine {machine.name} ({machine.definition}, {machine.bindings})"
        try:
            definition = machine.definition.read_text()
            bound = check_state_machine(machine.name, definition, machine.bindings.read_text())
        except OSError as exc:
            raise BadStateMachine(f"{where}: cannot read it: {exc}") from None
        except (arns.InvalidName, InvalidDefinition, InvalidBindings) as exc:
            raise BadStateMachine(f"{where}: {exc}") from None
        checked.append((machine.name, definition, dumps(bound)))
    for name, definition, bindings in checked:
        version = await store.put_state_machine(name, definition, bindings)
        log.info("state machine %s registered (version %d)", name, version)


async def topic_specs(store: ExecutionStore, topics: Topics, partitions: int) -> list[TopicSpec]:
    """The orchestrator's own topics and the command topic of every bound service."""
    names = set(topics.fixed())
    for record in await store.list_state_machines():
        bindings, problem = read_stored(record.bindings)
        if problem is not None:
            # Stored data must not keep the orchestrator from starting: its executions
            # fail one by one instead (see dispatch).
            log.error(
                "state machine %s:%d skipped: bad bindings: %s",
                record.name,
                record.version,
                problem,
            )
            continue
        names |= binding_topics(bindings, topics)
    return [TopicSpec(name, partitions=partitions) for name in sorted(names)]


async def fire_timers(
    orchestrator: Orchestrator,
    clock: Clock,
    poll_seconds: float,
    owns: Callable[[str], bool] | None = None,
) -> None:
    while True:
        try:
            fired = await orchestrator.fire_due_timers(clock.now(), owns=owns)
        except Exception:
            log.exception("timer loop failed; retrying")
            fired = 0
        if not fired:
            await asyncio.sleep(poll_seconds)


def broker_marker(topics: Topics) -> TopicSpec:
    """A topic no client produces to or reads, so only ``ensure_topics`` ever creates it.

    Finding it missing is the one signal that survives clients recreating the other
    topics first (the embedded broker creates a topic for any client that names it): the
    broker is new or came back empty, and what it held is gone.
    """
    return TopicSpec(f"{topics.prefix}.orchestrator.broker-marker", partitions=1)


async def watch_broker(
    bootstrap: str,
    specs: Sequence[TopicSpec],
    orchestrator: Orchestrator,
    every: float,
    marker: TopicSpec,
) -> None:
    """Notice a new or emptied broker: make the topics again, re-send pending commands.

    The first check runs at once, so a stack started again against an empty embedded
    broker re-sends the commands that were in it instead of waiting out task time-outs.
    Against a broker that kept its data nothing is re-sent; where a command is re-sent
    needlessly, workers answer it again from their idempotency record.

    The pending commands are re-sent a few times more in the minute after: measured on
    the embedded broker, records written in the first moments after it came back empty
    were acknowledged and then never served (a consumer waited out its gap patience and
    passed over them), and those tasks would otherwise wait out their time-outs.
    """
    loop = asyncio.get_running_loop()
    resend_at: list[float] = []
    while True:
        try:
            created = await ensure_topics(bootstrap, [*specs, marker])
        except BrokerError as exc:
            log.warning("broker unreachable: %s", exc)
            await asyncio.sleep(every)
            continue
        if marker.name in created:
            count = await orchestrator.republish_pending()
            log.warning(
                "the broker is new or lost its data; made %d topics, re-sent %d commands",
                len(created) - 1,
                count,
            )
            resend_at = [loop.time() + after for after in RESEND_AFTER_LOSS_SECONDS]
        elif resend_at and loop.time() >= resend_at[0]:
            del resend_at[0]
            count = await orchestrator.republish_pending()
            log.info("re-sent %d pending commands again after the broker came back", count)
        await asyncio.sleep(every)


async def serve(settings: OrchestratorSettings, kafka: KafkaSettings, stop: asyncio.Event) -> None:
    topics = Topics(settings.topic_prefix)
    store = await open_store(settings.store_url)
    try:
        await register_state_machines(store, settings.state_machines)
    except BaseException:
        await store.close()
        raise

    async def store_answers() -> None:
        await store.list_state_machines()

    unregister_store = PROCESS_CHECKS.register("store", store_answers)
    clock = SystemClock()
    specs = await topic_specs(store, topics, settings.partitions)
    await ensure_topics(kafka.bootstrap_servers, specs)
    bus = KafkaBus(settings=kafka)
    publisher = bus.publisher()
    subscriber = bus.subscriber(
        [topics.requests(), topics.replies()], group_id=f"{topics.prefix}.orchestrator"
    )
    await publisher.start()
    await subscriber.start()
    relay = OutboxRelay(
        store=store, publisher=publisher, dead_letter_topic=topics.dead_letter(), clock=clock.now
    )

    async def on_registered(bindings: Bindings) -> None:
        """Make the topics a newly registered machine sends to, and keep them made."""
        known = {spec.name for spec in specs}
        new = [
            TopicSpec(name, partitions=settings.partitions)
            for name in sorted(binding_topics(bindings, topics) - known)
        ]
        if new:
            specs.extend(new)  # watch_broker makes them on a new broker, or if this fails
            try:
                await ensure_topics(kafka.bootstrap_servers, new)
            except BrokerError as exc:
                log.warning("topics of a new state machine not made yet: %s", exc)

    orchestrator = Orchestrator(
        store=store, topics=topics, clock=clock, relay=relay.submit, on_registered=on_registered
    )
    loops = [
        asyncio.create_task(
            intake(
                subscriber,
                orchestrator.handle_envelope,
                dead_letter=publisher,
                dead_letter_topic=topics.dead_letter(),
                consumer_group=f"{topics.prefix}.orchestrator",
                concurrency=settings.concurrency,
            ).run()
        ),
        asyncio.create_task(relay.run()),
        asyncio.create_task(
            fire_timers(
                orchestrator,
                clock,
                settings.timer_poll_seconds,
                owns=lambda arn: subscriber.owns_key(topics.requests(), arn.encode()),
            )
        ),
        asyncio.create_task(
            watch_broker(
                kafka.bootstrap_servers,
                specs,
                orchestrator,
                settings.broker_check_seconds,
                broker_marker(topics),
            )
        ),
    ]
    log.info(
        "orchestrator running (store %s, broker %s)", settings.store_url, kafka.bootstrap_servers
    )
    try:
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([*loops, stopped], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopped and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in loops:
            task.cancel()
        for task in loops:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await subscriber.stop()
        await publisher.stop()
        unregister_store()
        await store.close()


def main() -> None:
    observability = ObservabilitySettings()
    setup_logging("orchestrator", observability)
    stop = asyncio.Event()

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with observed("orchestrator", observability):
            tune_for_service()
            await serve(OrchestratorSettings(), KafkaSettings(), stop)

    try:
        event_loop.run(run())
    except (BadStateMachine, event_loop.UnknownEventLoop) as exc:
        log.error("not starting: %s", exc)
        raise SystemExit(2) from None
