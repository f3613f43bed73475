"""The bus over Kafka (aiokafka), for the embedded Tansu broker and Apache Kafka alike.

Neither idempotent nor transactional producers are used: the embedded broker refuses
them. Delivery is at-least-once, and consumers deduplicate by command id and idempotency
key instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.abc import ConsumerRebalanceListener  # type: ignore[import-untyped]
from aiokafka.coordinator.assignors.range import (  # type: ignore[import-untyped]
    RangePartitionAssignor,
)
from aiokafka.errors import (  # type: ignore[import-untyped]
    CommitFailedError,
    ConsumerStoppedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.partitioner import DefaultPartitioner, murmur2  # type: ignore[import-untyped]
from aiokafka.protocol.group import LeaveGroupRequest  # type: ignore[import-untyped]
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from stepstream.broker.admin import MAX_RECORD_BYTES
from stepstream.broker.connection import KafkaConnection
from stepstream.messaging.bus import (
    BrokerUnreachable,
    CommitFailed,
    MessagesRejected,
    Outgoing,
    PublishFailed,
    Record,
)
from stepstream.messaging.doorbell import Doorbell, Ringer, supported, wait_for_bell_between_fetches
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.fetch_pacing import TICK_SECONDS, FetchPacer
from stepstream.messaging.kafka_loss import lost_partitions
from stepstream.observability import metrics
from stepstream.observability.health import PROCESS_CHECKS, Unhealthy

log = logging.getLogger(__name__)

# A record that skipped offsets not read yet is dropped and the partition read again from
# the first of them; a short pause keeps a gap the broker keeps answering from being
# asked about in a tight loop.
_REREAD_PAUSE_SECONDS = 0.001

# Refusals that sending again cannot cure: the record is too large for the client or broker.
_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)


class KafkaSettings(KafkaConnection):
    """How to reach the broker; read from ``STEPSTREAM_KAFKA_*`` variables.

    The defaults suit the embedded broker and are accepted by Apache Kafka too. TLS, SASL
    and the replication of the topics stepstream makes are ``KafkaConnection``'s.
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_KAFKA_", frozen=True)

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "stepstream"
    group_id: str | None = None
    # The embedded broker's fetch long-poll does not wake when data arrives, so every
    # hop costs this wait; 0 stalls it. Apache Kafka wakes early and is fine with more.
    fetch_max_wait_ms: int = Field(default=5, ge=1)
    # ...but polling every 5 ms burns CPU with nothing in flight (a stack of eight
    # consumers and the broker about 0.8 of a core). A consumer that has seen no record
    # for fetch_idle_after_ms stretches its wait, doubling, up to this; the first record
    # puts it back to fetch_max_wait_ms. What it costs: the first message into an idle
    # consumer waits up to this long. Set it to fetch_max_wait_ms (or below) to keep
    # one wait throughout, as Apache Kafka's waking long poll wants.
    fetch_idle_max_wait_ms: int = Field(default=200, ge=1)
    fetch_idle_after_ms: int = Field(default=1000, ge=0)
    # A folder shared by every process of a stack on one machine, for the doorbell
    # beside the embedded broker (see ``doorbell``): a producer rings a topic's consumers
    # once the broker took its records, and a consumer fetches when rung instead of
    # holding fetches at the broker, waiting at most fetch_idle_max_wait_ms between
    # fetches that read nothing. `stepstream up` sets it; None (the default) turns it off.
    doorbell_dir: Path | None = None
    # With the doorbell: after a fetch that brought records, wait this long before the
    # next, so that records arriving meanwhile come in one read. 0 (the default) for
    # every consumer on an order's path; a view that may lag a little sets more.
    fetch_linger_ms: int = Field(default=0, ge=0)

    @field_validator("doorbell_dir", mode="before")
    @classmethod
    def _empty_is_off(cls, value: object) -> object:
        # STEPSTREAM_KAFKA_DOORBELL_DIR= (empty) turns off what a stack turned on.
        return None if value == "" else value

    # The embedded broker holds a group join for half the session timeout; Apache Kafka
    # refuses less than 6000 unless its group.min.session.timeout.ms is lowered.
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=1000, ge=100)
    linger_ms: int = Field(default=0, ge=0)
    # The largest record a producer sends, and the max.message.bytes given to the topics
    # stepstream creates: an envelope of up to 1 MiB plus room for its key and headers.
    # A record over it is refused by the producer and set aside, never retried.
    max_record_bytes: int = Field(default=MAX_RECORD_BYTES, ge=64 * 1024)
    request_timeout_ms: int = Field(default=30000, ge=1000)
    # How often a consumer checks that the broker did not come back empty under it; None:
    # never. Off by default: the embedded stack stops every client while it restarts its
    # broker, so each starts afresh, and Apache Kafka answers a lost position with
    # OffsetOutOfRange. Measured under load, the embedded broker now and then answers a
    # log end or a committed offset from behind (its ListOffsets always does after a
    # batch of several records, see ``kafka_loss``), and each false alarm costs a rejoin
    # and a re-read of every topic from the beginning (a pipeline benchmark at two
    # cores' full load re-read its topics 200 times and never finished).
    broker_check_seconds: float | None = Field(default=None, gt=0)
    # The embedded broker, written to by several producers at once, now and then answers
    # a fetch with a partition's later records while an earlier one is not readable yet
    # (measured: about one record in 1,500 with four producers on one partition). A
    # consumer that took the answer as it came would pass over that record for good and
    # commit past it. So a record beyond the offset a partition was read up to sends the
    # consumer back to read from that offset again, until it is there or, for this long,
    # still is not: then the offsets are taken to be really absent (on Apache Kafka a
    # compacted topic or a transaction's markers leave such holes) and passed over.
    fetch_gap_patience_ms: int = Field(default=5000, ge=0)


def _encode_key(key: str | None) -> bytes | None:
    return None if key is None else key.encode()


@functools.lru_cache(maxsize=65_536)
def _key_hash(key: bytes) -> int:
    return int(murmur2(key)) & 0x7FFFFFFF


def partition_for_key(key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
    """The Java client's partition for ``key`` (murmur2), as aiokafka's default picks it.

    Every message of an execution carries the same key, and aiokafka computes murmur2 in
    pure Python for each one; remembering recent keys' hashes saves that work.
    """
    if key is None:
        return int(DefaultPartitioner()(key, all_partitions, available))
    return all_partitions[_key_hash(bytes(key)) % len(all_partitions)]


class KafkaPublisher:
    """A ``Publisher`` that waits for every message to be acknowledged by all replicas."""

    def __init__(self, *, settings: KafkaSettings) -> None:
        self._settings = settings
        self._producer: Any = None
        self._unregister: Callable[[], None] = lambda: None
        self._ringer: Ringer | None = None

    async def start(self) -> None:
        s = self._settings
        producer = AIOKafkaProducer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=s.client_id,
            acks="all",
            enable_idempotence=False,
            linger_ms=s.linger_ms,
            request_timeout_ms=s.request_timeout_ms,
            max_request_size=s.max_record_bytes,
            partitioner=partition_for_key,
            **s.client_options(),
        )
        try:
            await _start_or_close(producer)
        except (KafkaError, OSError, TimeoutError) as exc:
            # The port's word, so callers (the commands) need not know aiokafka's errors.
            raise BrokerUnreachable(
                f"no broker of {s.bootstrap_servers} answers: {str(exc) or type(exc).__name__}"
            ) from exc
        self._producer = producer
        if s.doorbell_dir is not None and supported():
            self._ringer = Ringer(s.doorbell_dir)
        self._unregister = PROCESS_CHECKS.register("kafka", self.ping, owner=self)

    async def stop(self) -> None:
        self._unregister()
        producer, self._producer = self._producer, None
        ringer, self._ringer = self._ringer, None
        if ringer is not None:
            ringer.close()
        if producer is not None:
            await producer.stop()

    def _ring(self, topics: Sequence[str]) -> None:
        if self._ringer is not None:
            self._ringer.ring(topics)

    async def ping(self) -> None:
        """Fetch the cluster's metadata now; raises ``Unhealthy`` if no broker answers."""
        try:
            await self._running().client.fetch_all_metadata()
        except (KafkaError, OSError) as exc:
            where = self._settings.bootstrap_servers
            raise Unhealthy(f"no broker of {where} answers: {exc}") from exc

    async def __aenter__(self) -> KafkaPublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _running(self) -> Any:
        if self._producer is None:
            raise RuntimeError("KafkaPublisher is not started")
        return self._producer

    async def publish(self, topic: str, key: str | None, envelope: Envelope) -> None:
        await self.publish_raw(topic, _encode_key(key), envelope.to_bytes(), ())

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        producer = self._running()
        try:
            await producer.send_and_wait(topic, value, key=key, headers=list(headers) or None)
        except _TOO_LARGE as exc:
            raise MessagesRejected({0: _refusal(exc)}) from exc
        except (KafkaError, OSError, TimeoutError) as exc:
            raise PublishFailed(f"{topic}: {type(exc).__name__}: {exc}") from exc
        self._ring((topic,))

    async def publish_batch(self, messages: Sequence[Outgoing]) -> None:
        try:
            await self._publish_batch(messages)
        except (KafkaError, OSError, TimeoutError) as exc:
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
        finally:
            # Whatever the broker took is readable now, even of a batch partly refused.
            self._ring([m.topic for m in messages])

    async def _publish_batch(self, messages: Sequence[Outgoing]) -> None:
        producer = self._running()
        # Each send() only queues its message (in call order, which keeps per-partition
        # order); the acknowledgements are awaited together afterwards.
        rejected: dict[int, str] = {}
        acks: list[tuple[int, Any]] = []
        for index, m in enumerate(messages):
            try:
                ack = await producer.send(
                    m.topic, m.value, key=m.key, headers=list(m.headers) or None
                )
            except _TOO_LARGE as exc:
                rejected[index] = _refusal(exc)
                continue
            acks.append((index, ack))
        results = await asyncio.gather(*(ack for _, ack in acks), return_exceptions=True)
        for (index, _), result in zip(acks, results, strict=True):
            if isinstance(result, _TOO_LARGE):
                rejected[index] = _refusal(result)
            elif isinstance(result, BaseException):
                raise result
        if rejected:
            raise MessagesRejected(rejected)


class KafkaSubscriber:
    """A ``Subscriber``: one member of a consumer group, committing only when told to.

    It watches for a broker that came back empty (see ``kafka_loss``); then it starts a
    fresh consumer that reads the recreated topics from their beginning, and drops the
    commits of records read before, which would point past the new logs' ends.
    """

    def __init__(
        self, *, settings: KafkaSettings, topics: Sequence[str], group_id: str | None = None
    ) -> None:
        group = group_id or settings.group_id
        if not group:
            raise ValueError("KafkaSubscriber needs a group_id (argument or settings)")
        if not topics:
            raise ValueError("KafkaSubscriber needs at least one topic")
        self._settings = settings
        self._topics = tuple(topics)
        self._group_id = group
        self._consumer: Any = None
        self._watch: asyncio.Task[None] | None = None
        self._read_up_to: dict[TopicPartition, int] = {}
        # The offset each assigned partition's next record must have, once known; the
        # partitions assigned whose position was not known yet; and per partition, the
        # offset missing from the broker's answers and since when (see _passes_over).
        self._next_offset: dict[TopicPartition, int] = {}
        self._unplaced: set[TopicPartition] = set()
        self._missing: dict[TopicPartition, tuple[int, float]] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._rewind: set[str] = set()
        # The log ends that stood behind this consumer when it last started again.
        self._ends_behind: dict[TopicPartition, int] = {}
        self._unregister: Callable[[], None] = lambda: None
        self._pacer = FetchPacer(
            fast_ms=settings.fetch_max_wait_ms,
            idle_ms=settings.fetch_idle_max_wait_ms,
            idle_after_seconds=settings.fetch_idle_after_ms / 1000,
            now=time.monotonic(),
        )
        self._pacing: asyncio.Task[None] | None = None
        self._busy_again = asyncio.Event()
        self._bell: Doorbell | None = None
        if settings.doorbell_dir is not None and supported():
            self._bell = Doorbell(settings.doorbell_dir, self._topics)
        self.broker_losses = 0

    @property
    def group_id(self) -> str:
        return self._group_id

    @property
    def fetch_wait_ms(self) -> int:
        """How long the broker may hold this consumer's fetch now (see ``fetch_pacing``)."""
        return self._pacer.wait_ms

    async def start(self) -> None:
        if self._bell is not None:
            self._bell.open()
        self._consumer = await self._new_consumer()
        self._unregister = PROCESS_CHECKS.register(
            f"consumer group {self._group_id}", self.check_joined, owner=self
        )
        metrics.watch_lag(self)
        if self._settings.broker_check_seconds is not None:
            self._watch = asyncio.create_task(
                self._watch_broker(self._settings.broker_check_seconds)
            )
        if self._bell is None and self._pacer.adaptive and _fetcher_of(self._consumer) is not None:
            self._pacing = asyncio.create_task(self._pace())

    async def _new_consumer(self) -> Any:
        s = self._settings
        consumer = AIOKafkaConsumer(
            bootstrap_servers=s.bootstrap_servers,
            client_id=s.client_id,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            # With a doorbell, the doorbell sets the wait of each fetch (see there).
            fetch_max_wait_ms=s.fetch_max_wait_ms,
            # Range gives each member the same partition numbers of every topic, so the
            # requests and the replies of one execution reach the same orchestrator.
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            request_timeout_ms=s.request_timeout_ms,
            **s.client_options(),
        )
        consumer.subscribe(self._topics, listener=_Rebalance(self, consumer))
        await _start_or_close(consumer)
        if self._bell is not None and not wait_for_bell_between_fetches(
            consumer,
            self._bell,
            s.fetch_idle_max_wait_ms / 1000,
            linger_seconds=s.fetch_linger_ms / 1000,
        ):
            # Without the wait between fetches it would ask the broker back to back.
            await consumer.stop()
            raise RuntimeError("this aiokafka offers no way to wait between fetches")
        return consumer

    async def stop(self) -> None:
        self._unregister()
        metrics.unwatch_lag(self)
        for task in (self._watch, self._pacing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watch = self._pacing = None
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            await _leave_first_generation(consumer, self._group_id)
            await consumer.stop()
        if self._bell is not None:
            self._bell.close()

    async def __aenter__(self) -> KafkaSubscriber:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def __aiter__(self) -> AsyncIterator[Record]:
        if self._consumer is None:
            raise RuntimeError("KafkaSubscriber is not started")
        while (consumer := self._consumer) is not None:
            self._place(consumer)
            try:
                message = await consumer.getone()
            except ConsumerStoppedError:
                continue  # stopped for good (loop ends), or replaced after a broker loss
            if consumer is not self._consumer:
                continue  # read from the lost logs just before the consumer was replaced
            partition = TopicPartition(message.topic, message.partition)
            if self._passes_over(consumer, partition, message.offset):
                await asyncio.sleep(_REREAD_PAUSE_SECONDS)
                continue
            self._read_up_to[partition] = message.offset + 1
            if self._pacer.record_seen():
                _set_fetch_wait(consumer, self._pacer.wait_ms)
                self._busy_again.set()
            yield Record(
                topic=message.topic,
                partition=message.partition,
                offset=message.offset,
                key=message.key,
                value=message.value if message.value is not None else b"",
                headers=tuple(message.headers or ()),
            )

    def _place(self, consumer: Any) -> None:
        """Note where newly assigned partitions will be read from, once aiokafka knows."""
        if not self._unplaced:
            return
        subscription = consumer._subscription.subscription
        assignment = None if subscription is None else subscription.assignment
        if assignment is None:
            return
        for partition in list(self._unplaced):
            state = assignment.state_value(partition)
            if state is not None and state.has_valid_position:
                self._next_offset[partition] = state.position
                self._unplaced.discard(partition)

    def _passes_over(self, consumer: Any, partition: TopicPartition, offset: int) -> bool:
        """Whether a record at ``offset`` skips records not read yet: then read them again.

        True sends the consumer back to the first offset not read, and the record is
        not to be handed on (it comes again after the ones before it).
        """
        self._unplaced.discard(partition)  # its first record came before its position
        expected = self._next_offset.get(partition)
        if expected is None or offset <= expected:
            # In order, or moved back (a seek, a reset): read on from here.
            self._next_offset[partition] = offset + 1
            self._missing.pop(partition, None)
            return False
        now = time.monotonic()
        missing, since = self._missing.get(partition, (expected, now))
        if missing != expected:
            since = now
        if now - since < self._settings.fetch_gap_patience_ms / 1000:
            self._missing[partition] = (expected, since)
            log.debug(
                "%s[%d]: the broker answered %d before %d; reading from %d again",
                partition.topic,
                partition.partition,
                offset,
                expected,
                expected,
            )
            consumer.seek(partition, expected)
            return True
        log.warning(
            "%s[%d]: offsets %d to %d are still absent after %d ms; passing over them",
            partition.topic,
            partition.partition,
            expected,
            offset - 1,
            self._settings.fetch_gap_patience_ms,
        )
        self._missing.pop(partition, None)
        self._next_offset[partition] = offset + 1
        return False

    def _assigned(self, partitions: Any) -> None:
        for partition in partitions:
            self._next_offset.pop(partition, None)
            self._missing.pop(partition, None)
            self._unplaced.add(partition)

    def _revoked(self, partitions: Any) -> None:
        for partition in partitions:
            self._next_offset.pop(partition, None)
            self._missing.pop(partition, None)
            self._unplaced.discard(partition)

    async def _pace(self) -> None:
        while True:
            if self._pacer.wait_ms == self._pacer.idle_ms:
                # At the ceiling nothing changes until a record comes: sleep till then.
                self._busy_again.clear()
                await self._busy_again.wait()
            await asyncio.sleep(TICK_SECONDS)
            before = self._pacer.wait_ms
            wait = self._pacer.tick(time.monotonic())
            if wait != before and self._consumer is not None:
                _set_fetch_wait(self._consumer, wait)

    async def _watch_broker(self, every: float) -> None:
        suspected: Any = None
        while True:
            await asyncio.sleep(every)
            consumer = self._consumer
            read_up_to, committed = dict(self._read_up_to), dict(self._committed)
            try:
                lost = await asyncio.wait_for(
                    lost_partitions(consumer, read_up_to, committed, self._ends_behind),
                    max(every, 5.0),
                )
            except (KafkaError, TimeoutError, OSError, IllegalStateError) as exc:
                log.debug("broker check of group %s skipped: %s", self._group_id, exc)
                continue
            if not lost or consumer is not self._consumer:
                suspected = None
                continue
            log.info(
                "group %s: the broker answered behind this consumer (%s): %s",
                self._group_id,
                "again" if suspected is consumer else "once",
                _behind(lost, read_up_to, committed),
            )
            if suspected is not consumer:
                # Seen once: a broker under load can answer a log end or a committed
                # offset from behind for a moment; a real loss is still there next time.
                suspected = consumer
                continue
            suspected = None
            # A broker that lost one of the topics lost them all; the others may just
            # not show it yet (a log refilled past this consumer's old position).
            self._ends_behind = {**self._ends_behind, **lost}
            await self._start_again(set(self._topics))

    async def _start_again(self, topics: set[str]) -> None:
        self.broker_losses += 1
        log.warning(
            "group %s: the broker lost %s (log ends or commits went back); reading them"
            " again from the beginning",
            self._group_id,
            ", ".join(sorted(topics)),
        )
        self._rewind |= topics
        self._read_up_to.clear()
        self._committed.clear()
        self._next_offset.clear()
        self._missing.clear()
        self._unplaced.clear()
        old, self._consumer = self._consumer, await self._new_consumer()
        self._pacer.record_seen()  # the new consumer starts with the short wait
        with contextlib.suppress(KafkaError):
            await old.stop()

    async def check_joined(self) -> None:
        """Raises ``Unhealthy`` unless this member has a coordinator and an assignment."""
        consumer = self._consumer
        if consumer is None:
            raise Unhealthy("stopped")
        coordinator = getattr(consumer, "_coordinator", None)
        if coordinator is None or coordinator.coordinator_id is None:
            raise Unhealthy("no group coordinator found")
        subscription = consumer._subscription.subscription
        if subscription is None or subscription.assignment is None:
            raise Unhealthy("joining the group")

    def lag(self) -> Mapping[tuple[str, int], int]:
        """Records between this member's position and each assigned partition's end."""
        consumer = self._consumer
        subscription = None if consumer is None else consumer._subscription.subscription
        if subscription is None or subscription.assignment is None:
            return {}
        lags = {}
        for tp in subscription.assignment.tps:
            state = subscription.assignment.state_value(tp)
            end = consumer.highwater(tp)
            if end is not None and state is not None and state.has_valid_position:
                lags[(tp.topic, tp.partition)] = max(0, end - state.position)
        return lags

    def owns_key(self, topic: str, key: bytes) -> bool:
        consumer = self._consumer
        if consumer is None:
            return False
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        if not partitions:
            return False
        partition = partition_for_key(key, partitions, partitions)
        return TopicPartition(topic, partition) in consumer.assignment()

    async def commit(self, record: Record) -> None:
        consumer = self._consumer
        if consumer is None:
            raise CommitFailed(f"subscriber stopped before committing {_where(record)}")
        partition = TopicPartition(record.topic, record.partition)
        if record.offset >= self._read_up_to.get(partition, 0):
            raise CommitFailed(f"{_where(record)} was read from a log the broker lost")
        try:
            await consumer.commit({partition: record.offset + 1})
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            raise CommitFailed(f"cannot commit {_where(record)}: {exc}") from exc
        self._committed[partition] = max(self._committed.get(partition, 0), record.offset + 1)

    async def commit_all(self, records: Sequence[Record]) -> None:
        # One OffsetCommit for every partition: a consumer of many partitions committing
        # each on its own sent the broker a request per partition per commit interval.
        consumer = self._consumer
        if consumer is None:
            raise CommitFailed("subscriber stopped before committing")
        offsets: dict[Any, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            if record.offset >= self._read_up_to.get(partition, 0):
                raise CommitFailed(f"{_where(record)} was read from a log the broker lost")
            offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            raise CommitFailed(f"cannot commit {len(offsets)} partitions: {exc}") from exc
        for partition, offset in offsets.items():
            self._committed[partition] = max(self._committed.get(partition, 0), offset)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Tells the subscriber which partitions it reads, and rewinds after a broker loss.

    A fresh consumer is sought to the beginning of the topics the broker lost: committed
    offsets the old consumer left on the new broker would otherwise skip the first
    records of the recreated logs; committing the beginning overrides them.
    """

    def __init__(self, subscriber: KafkaSubscriber, consumer: Any) -> None:
        self._subscriber = subscriber
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._subscriber._revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._subscriber._assigned(assigned)
        rewind = [tp for tp in assigned if tp.topic in self._subscriber._rewind]
        if not rewind:
            return
        beginning = await self._consumer.beginning_offsets(rewind)
        for tp, offset in beginning.items():
            self._consumer.seek(tp, offset)
        with contextlib.suppress(KafkaError, IllegalStateError):
            await self._consumer.commit(beginning)
        self._subscriber._rewind -= {tp.topic for tp in rewind}


def _fetcher_of(consumer: Any) -> Any:
    # aiokafka reads the wait from its fetcher each time it builds a fetch request, and
    # offers no public way to change it; without that attribute the wait stays fixed.
    fetcher = getattr(consumer, "_fetcher", None)
    return fetcher if hasattr(fetcher, "_fetch_max_wait_ms") else None


def _set_fetch_wait(consumer: Any, wait_ms: int) -> None:
    fetcher = _fetcher_of(consumer)
    if fetcher is not None:
        fetcher._fetch_max_wait_ms = wait_ms


def _behind(
    lost: Mapping[TopicPartition, int],
    read_up_to: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, int],
) -> str:
    """Each lost partition: the log end answered, what was read, what was committed."""
    return ", ".join(
        f"{tp.topic}[{tp.partition}] end {end}, read to {read_up_to.get(tp)}, "
        f"committed {committed.get(tp)}"
        for tp, end in sorted(lost.items())
    )


def _refusal(exc: KafkaError) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _start_or_close(client: Any) -> None:
    # A client that failed to start still holds connections and tasks; release them.
    try:
        await client.start()
    except BaseException:
        await client.stop()
        raise


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"


async def _leave_first_generation(consumer: Any, group_id: str) -> None:
    """Leave the group explicitly when aiokafka would not.

    aiokafka sends LeaveGroup only for generations above 0, as Apache Kafka numbers them
    from 1; the embedded broker numbers them from 0, so without this the group's next
    member would wait out the whole session timeout of the one that left.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or getattr(coordinator, "generation", None) != 0:
        return
    try:
        await coordinator._send_req(LeaveGroupRequest(group_id, coordinator.member_id))
    except (KafkaError, AttributeError) as exc:
        log.debug("leaving group %s explicitly failed: %s", group_id, exc)


class KafkaBus:
    """A ``Bus`` whose publishers and subscribers talk to one Kafka cluster."""

    def __init__(self, *, settings: KafkaSettings) -> None:
        self.settings = settings

    def publisher(self) -> KafkaPublisher:
        return KafkaPublisher(settings=self.settings)

    def subscriber(self, topics: Sequence[str], *, group_id: str) -> KafkaSubscriber:
        return KafkaSubscriber(settings=self.settings, topics=topics, group_id=group_id)
