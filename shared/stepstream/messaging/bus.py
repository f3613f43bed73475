"""The ports for sending and receiving messages, apart from any broker.

Code that moves messages depends on these Protocols only; ``stepstream.messaging.kafka``
implements them over aiokafka and ``stepstream.messaging.fake`` in memory, and one contract
test suite holds both to the same behaviour.

Delivery is at-least-once: a record stays uncommitted until its consumer calls
``commit``, and a record not committed when its consumer stops or dies is delivered again
to the next consumer of the group.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from stepstream.messaging.envelope import Envelope

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True)
class Record:
    """One received message and where it came from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = field(default=())


@dataclass(frozen=True)
class Outgoing:
    """One message to send as bytes, for ``Publisher.publish_batch``."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = field(default=())


class CommitFailed(Exception):
    """The consumer no longer owns the record's partition (the group rebalanced).

    The record will be delivered again to the partition's new owner, so the caller loses
    nothing by carrying on.
    """


class BrokerUnreachable(Exception):
    """No broker answers now (unreachable, restarting, not ready); later it may.

    Raised by a client that cannot start; its message names the broker addresses tried.
    """


class PublishFailed(BrokerUnreachable):
    """The broker did not take a message now (unreachable, restarting, not ready).

    Unlike ``MessagesRejected``, sending the same message again later may succeed.
    """


class MessagesRejected(Exception):
    """Messages of a batch that can never be sent as they are (too large for the broker).

    Raised only once every other message of the batch was sent; ``reasons`` maps the
    index of each refused message in the batch to why. Sending them again cannot help,
    unlike a broker that is away, which raises ``PublishFailed``.
    """

    def __init__(self, reasons: dict[int, str]) -> None:
        super().__init__("; ".join(f"message {i}: {r}" for i, r in sorted(reasons.items())))
        self.reasons = reasons


class Publisher(Protocol):
    async def publish(self, topic: str, key: str | None, envelope: Envelope) -> None:
        """Send ``envelope`` and wait until the broker has it."""
        ...

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        """Send bytes as they are (e.g. a message being set aside as a dead letter)."""
        ...

    async def publish_batch(self, messages: Sequence[Outgoing]) -> None:
        """Send many messages, in order, and wait until the broker has them all.

        Much faster than one ``publish`` after another (the sends share round trips); if
        it raises, some of the messages may have been sent and some not, except for
        ``MessagesRejected``, which says that all the others were sent.
        """
        ...


class Subscriber(Protocol):
    def __aiter__(self) -> AsyncIterator[Record]:
        """Received records, in order within a partition, until the subscriber stops."""
        ...

    async def commit(self, record: Record) -> None:
        """Mark ``record`` and everything before it in its partition as done.

        Raises ``CommitFailed`` when the partition has moved to another consumer.
        """
        ...

    async def commit_all(self, records: Sequence[Record]) -> None:
        """``commit`` for records of different partitions, in one request where it can.

        Raises ``CommitFailed`` when any of them cannot be committed; then none may have
        been, and committing them one by one tells which.
        """
        ...

    def owns_key(self, topic: str, key: bytes) -> bool:
        """Whether the partition of ``topic`` that ``key`` goes to is this member's now.

        Work that no message starts (a timer falling due) is done by the member that
        would receive the execution's messages, so that group members do not repeat it.
        """
        ...


class Lifecycle(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ManagedPublisher(Publisher, Lifecycle, Protocol):
    """A publisher to be started before use and stopped after."""


class ManagedSubscriber(Subscriber, Lifecycle, Protocol):
    """A subscriber to be started before use and stopped after."""


class Bus(Protocol):
    """Makes publishers and subscribers on one broker (or in memory)."""

    def publisher(self) -> ManagedPublisher: ...

    def subscriber(self, topics: Sequence[str], *, group_id: str) -> ManagedSubscriber:
        """A member of consumer group ``group_id``; a new group starts at the earliest record."""
        ...
