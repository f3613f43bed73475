"""Setting aside messages that cannot be handled, so that everything else goes on.

A dead letter is the original record, bytes, key and headers unchanged, published to the
dead-letter topic with headers that say why and where it came from. A consumer that
meets a bad message dead-letters it and commits past it; a consumer whose handler fails
for any other reason stops without committing, so the message comes back after restart.

A dead letter is itself bounded, or setting it aside would fail like the message did and
the consumer would meet it again forever: a record too large to be sent again keeps only
its first bytes, and says so (headers ``truncated`` and ``original-size``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from stepstream.messaging.bus import Headers, Publisher, Record
from stepstream.messaging.envelope import DEFAULT_MAX_BYTES, Envelope, MalformedMessage, decode
from stepstream.messaging.patience import until_published
from stepstream.observability import metrics

log = logging.getLogger(__name__)

HEADER_PREFIX = "stepstream.dlq."
REASON = HEADER_PREFIX + "reason"
SOURCE_TOPIC = HEADER_PREFIX + "source-topic"
SOURCE_PARTITION = HEADER_PREFIX + "source-partition"
SOURCE_OFFSET = HEADER_PREFIX + "source-offset"
CONSUMER_GROUP = HEADER_PREFIX + "consumer-group"
DEAD_LETTERED_AT = HEADER_PREFIX + "dead-lettered-at"
TRUNCATED = HEADER_PREFIX + "truncated"
ORIGINAL_SIZE = HEADER_PREFIX + "original-size"

# A dead letter's value, key and original headers together stay under this; past it the
# value keeps its first PREVIEW_BYTES, enough to see what the message was.
MAX_DEAD_LETTER_BYTES = DEFAULT_MAX_BYTES
PREVIEW_BYTES = 4096
MAX_REASON_BYTES = 2048
_MAX_KEY_BYTES = 1024
_MAX_HEADER_BYTES = 16 * 1024

Handler = Callable[[Envelope, Record], Awaitable[None]]


class PoisonMessage(Exception):
    """Raised by a handler for a message it can never handle; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class DeadLetter:
    """A dead-lettered record read back: the original message and why it was set aside."""

    reason: str
    source_topic: str
    source_partition: int
    source_offset: int
    consumer_group: str | None
    key: bytes | None
    value: bytes
    headers: Headers
    truncated: bool = False
    original_size: int | None = None

    @classmethod
    def from_record(cls, record: Record) -> DeadLetter:
        """Parse a record of the dead-letter topic; ``ValueError`` if it is not one."""
        ours = {name: value.decode() for name, value in record.headers if _is_ours(name)}
        try:
            return cls(
                reason=ours[REASON],
                source_topic=ours[SOURCE_TOPIC],
                source_partition=int(ours[SOURCE_PARTITION]),
                source_offset=int(ours[SOURCE_OFFSET]),
                consumer_group=ours.get(CONSUMER_GROUP),
                key=record.key,
                value=record.value,
                headers=tuple((n, v) for n, v in record.headers if not _is_ours(n)),
                truncated=ours.get(TRUNCATED) == "true",
                original_size=int(ours[ORIGINAL_SIZE]) if ORIGINAL_SIZE in ours else None,
            )
        except KeyError as exc:
            raise ValueError(f"not a dead letter: header {exc.args[0]!r} missing") from None


def _is_ours(name: str) -> bool:
    return name.startswith(HEADER_PREFIX)


async def send_to_dead_letter(
    publisher: Publisher,
    topic: str,
    record: Record,
    reason: str,
    *,
    consumer_group: str | None = None,
) -> None:
    """Publish ``record`` to the dead-letter ``topic`` with why and whence.

    The record goes unchanged unless it is too large to send again; then only its first
    bytes go, marked as truncated with the original size. A partition of -1 names a
    message that never reached the broker (an outbox row the producer refused).
    """
    log.warning(
        "dead-lettering %s[%d]@%d: %s", record.topic, record.partition, record.offset, reason
    )
    metrics.DEAD_LETTERS.labels(record.topic).inc()
    key, value, headers = _bounded(record)
    headers += [
        (REASON, _clip(reason.encode(), MAX_REASON_BYTES)),
        (SOURCE_TOPIC, record.topic.encode()),
        (SOURCE_PARTITION, str(record.partition).encode()),
        (SOURCE_OFFSET, str(record.offset).encode()),
        (DEAD_LETTERED_AT, datetime.now(UTC).isoformat().encode()),
    ]
    if consumer_group is not None:
        headers.append((CONSUMER_GROUP, consumer_group.encode()))
    await until_published(
        lambda: publisher.publish_raw(topic, key, value, headers), f"dead letter to {topic}"
    )


def _bounded(record: Record) -> tuple[bytes | None, bytes, list[tuple[str, bytes]]]:
    headers = [(n, v) for n, v in record.headers if not _is_ours(n)]
    header_bytes = sum(len(n) + len(v) for n, v in headers)
    key_bytes = len(record.key or b"")
    size = len(record.value) + key_bytes + header_bytes
    if size <= MAX_DEAD_LETTER_BYTES - MAX_REASON_BYTES:
        return record.key, record.value, headers
    if header_bytes > _MAX_HEADER_BYTES:
        headers = []
    key = None if record.key is None else record.key[:_MAX_KEY_BYTES]
    headers += [(TRUNCATED, b"true"), (ORIGINAL_SIZE, str(len(record.value)).encode())]
    return key, record.value[:PREVIEW_BYTES], headers


def _clip(text: bytes, limit: int) -> bytes:
    if len(text) <= limit:
        return text
    # Cut on a character boundary: readers decode headers as UTF-8.
    return text[: limit - 3].decode(errors="ignore").encode() + b"..."


async def handle_record(
    record: Record,
    handler: Handler,
    *,
    dead_letters: Publisher,
    dead_letter_topic: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    consumer_group: str | None = None,
) -> None:
    """Decode ``record`` and hand it to ``handler``; dead-letter it if it is bad.

    Returns once the record is dealt with and may be committed. Any exception other than
    ``MalformedMessage`` or ``PoisonMessage`` propagates: the record is not done.
    """
    try:
        envelope = decode(record.value, max_bytes=max_bytes)
        await handler(envelope, record)
    except (MalformedMessage, PoisonMessage) as exc:
        await send_to_dead_letter(
            dead_letters, dead_letter_topic, record, exc.reason, consumer_group=consumer_group
        )
