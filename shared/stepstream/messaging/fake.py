"""An in-memory bus with the behaviour of the Kafka one, for tests of code that uses it.

Topics have partitions; a key always lands in the same partition; consumer groups split
partitions among their members and remember committed offsets; when a member joins or
leaves, every member restarts from the committed offsets of what it is given, so
records that were received but not committed are delivered again.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from stepstream.messaging.bus import CommitFailed, Outgoing, Record
from stepstream.messaging.envelope import Envelope

TopicPartition = tuple[str, int]


@dataclass
class _Group:
    members: list[FakeSubscriber] = field(default_factory=list)
    committed: dict[TopicPartition, int] = field(default_factory=dict)


class FakeBus:
    """A ``Bus`` held in memory; its state can be inspected by tests."""

    def __init__(self, *, partitions: int = 3) -> None:
        if partitions < 1:
            raise ValueError(f"partitions must be at least 1, got {partitions}")
        self._default_partitions = partitions
        self._logs: dict[str, list[list[Record]]] = {}
        self._published: dict[str, list[Record]] = {}
        self._groups: dict[str, _Group] = {}
        self._round_robin = 0

    def publisher(self) -> FakePublisher:
        return FakePublisher(self)

    def subscriber(self, topics: Sequence[str], *, group_id: str) -> FakeSubscriber:
        if not topics:
            raise ValueError("a subscriber needs at least one topic")
        if not group_id:
            raise ValueError("a subscriber needs a group_id")
        return FakeSubscriber(self, topics=topics, group_id=group_id)

    def create_topic(self, name: str, *, partitions: int | None = None) -> None:
        """Create ``name`` if it does not exist (publishing or subscribing also does)."""
        if name in self._logs:
            return
        count = partitions or self._default_partitions
        self._logs[name] = [[] for _ in range(count)]
        self._published[name] = []
        for group in self._groups.values():
            if any(name in member.topics for member in group.members):
                self._rebalance(group)

    def records(self, topic: str) -> list[Record]:
        """Every record published to ``topic``, in publication order."""
        return list(self._published.get(topic, ()))

    def committed(self, group_id: str, topic: str, partition: int) -> int | None:
        """The next offset group ``group_id`` will read in the partition, once committed."""
        group = self._groups.get(group_id)
        return None if group is None else group.committed.get((topic, partition))

    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has."""
        return len(self._logs[topic])

    def partition_for(self, topic: str, key: bytes) -> int:
        """The partition of ``topic`` that messages keyed ``key`` go to."""
        return zlib.crc32(key) % len(self._logs[topic])

    def _append(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        if not isinstance(value, bytes):
            raise TypeError(f"message value must be bytes, got {type(value).__name__}")
        self.create_topic(topic)
        log = self._logs[topic]
        if key is None:
            self._round_robin += 1
            partition = self._round_robin % len(log)
        else:
            partition = self.partition_for(topic, key)
        record = Record(topic, partition, len(log[partition]), key, value, tuple(headers))
        log[partition].append(record)
        self._published[topic].append(record)
        for group in self._groups.values():
            for member in group.members:
                member._wake.set()

    def _join(self, member: FakeSubscriber) -> None:
        for topic in member.topics:
            self.create_topic(topic)
        group = self._groups.setdefault(member.group_id, _Group())
        group.members.append(member)
        self._rebalance(group)

    def _leave(self, member: FakeSubscriber) -> None:
        group = self._groups[member.group_id]
        group.members.remove(member)
        self._rebalance(group)

    def _rebalance(self, group: _Group) -> None:
        assignments: dict[int, set[TopicPartition]] = {id(m): set() for m in group.members}
        for topic in sorted({t for m in group.members for t in m.topics}):
            takers = [m for m in group.members if topic in m.topics]
            for partition in range(len(self._logs[topic])):
                owner = takers[partition % len(takers)]
                assignments[id(owner)].add((topic, partition))
        for member in group.members:
            member._assign(assignments[id(member)], group.committed)

    def _log(self, topic: str, partition: int) -> list[Record]:
        return self._logs[topic][partition]


class FakePublisher:
    """A ``Publisher`` into a ``FakeBus``."""

    def __init__(self, bus: FakeBus) -> None:
        self._bus = bus
        self._started = False

    async def start(self) -> None:
        self._started = True

    async def stop(self) -> None:
        self._started = False

    async def __aenter__(self) -> FakePublisher:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def publish(self, topic: str, key: str | None, envelope: Envelope) -> None:
        await self.publish_raw(
            topic, None if key is None else key.encode(), envelope.to_bytes(), ()
        )

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        if not self._started:
            raise RuntimeError("FakePublisher is not started")
        self._bus._append(topic, key, value, headers)

    async def publish_batch(self, messages: Sequence[Outgoing]) -> None:
        for m in messages:
            await self.publish_raw(m.topic, m.key, m.value, m.headers)


class FakeSubscriber:
    """A ``Subscriber``: one member of a consumer group of a ``FakeBus``."""

    def __init__(self, bus: FakeBus, *, topics: Sequence[str], group_id: str) -> None:
        self._bus = bus
        self.topics = tuple(topics)
        self.group_id = group_id
        self._positions: dict[TopicPartition, int] = {}
        self._running = False
        self._wake = asyncio.Event()
        self._turn = 0

    @property
    def assignment(self) -> frozenset[TopicPartition]:
        return frozenset(self._positions)

    async def start(self) -> None:
        if self._running:
            raise RuntimeError("FakeSubscriber is already started")
        self._running = True
        self._bus._join(self)

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self._bus._leave(self)
        self._positions = {}
        self._wake.set()

    async def __aenter__(self) -> FakeSubscriber:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def __aiter__(self) -> AsyncIterator[Record]:
        if not self._running:
            raise RuntimeError("FakeSubscriber is not started")
        while self._running:
            self._wake.clear()
            record = self._next()
            if record is None:
                await self._wake.wait()
                continue
            yield record
            # Let other tasks run between records, as a network client would.
            await asyncio.sleep(0)

    def owns_key(self, topic: str, key: bytes) -> bool:
        if topic not in self._bus._logs:
            return False
        return (topic, self._bus.partition_for(topic, key)) in self._positions

    async def commit(self, record: Record) -> None:
        where = (record.topic, record.partition)
        if where not in self._positions:
            raise CommitFailed(
                f"{record.topic}[{record.partition}] is not assigned to this consumer"
            )
        self._bus._groups[self.group_id].committed[where] = record.offset + 1

    async def commit_all(self, records: Sequence[Record]) -> None:
        for record in records:
            await self.commit(record)

    def _assign(
        self, partitions: set[TopicPartition], committed: dict[TopicPartition, int]
    ) -> None:
        self._positions = {tp: committed.get(tp, 0) for tp in sorted(partitions)}
        self._wake.set()

    def _next(self) -> Record | None:
        owned = list(self._positions)
        for step in range(len(owned)):
            where = owned[(self._turn + step) % len(owned)]
            log = self._bus._log(*where)
            position = self._positions[where]
            if position < len(log):
                self._positions[where] = position + 1
                self._turn = (self._turn + step + 1) % len(owned)
                return log[position]
        return None
