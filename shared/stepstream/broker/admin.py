"""Creating topics and checking that a broker answers, on any Kafka-compatible broker."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # type: ignore[import-untyped]
from aiokafka.client import AIOKafkaClient  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from stepstream.broker.connection import KafkaConnection

_TOPIC_ALREADY_EXISTS = 36

# The largest record stepstream sends (an envelope of up to 1 MiB, its key and headers).
# Topics are created with it as max.message.bytes, since Apache Kafka's default (1 MiB
# and 12 bytes) is smaller; the embedded broker takes the setting but enforces no limit.
MAX_RECORD_BYTES = 1024 * 1024 + 64 * 1024
MAX_MESSAGE_BYTES = "max.message.bytes"
_LEGAL_TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")


# The embedded broker creates a topic that any client names with 4 partitions, and
# cannot change a topic's count afterwards. After it comes back empty, clients recreate
# stepstream's topics before anyone can create them deliberately, so the count every
# process asks for is the broker's own: the topics come back as they were.
DEFAULT_PARTITIONS = 4


class BrokerError(RuntimeError):
    """The broker could not be started, reached, or asked to do something."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create: name, partition count, replication factor, topic configs."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    # None: the deployment's (STEPSTREAM_KAFKA_REPLICATION_FACTOR).
    replication_factor: int | None = None
    configs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _LEGAL_TOPIC.fullmatch(self.name):
            raise ValueError(
                f"topic name {self.name!r} is invalid: use 1 to 249 letters, digits, '.', '_', '-'"
            )
        if self.partitions < 1:
            raise ValueError(f"topic {self.name!r}: partitions must be at least 1")
        if self.replication_factor is not None and self.replication_factor < 1:
            raise ValueError(f"topic {self.name!r}: replication_factor must be at least 1")


async def ensure_topics(
    bootstrap: str,
    topics: Sequence[TopicSpec],
    *,
    request_timeout_ms: int = 10000,
    connection: KafkaConnection | None = None,
) -> list[str]:
    """Create those of ``topics`` that do not exist yet; return the names created.

    Existing topics are left as they are, whatever their partition count, replication or
    configs (an operator may have tuned them), so calling this again, or from several
    processes at once, is harmless. ``connection`` defaults to the deployment's
    (``STEPSTREAM_KAFKA_*``): its TLS and SASL settings and its replication factor.
    """
    connection = connection or KafkaConnection()
    wanted = {spec.name: spec for spec in topics}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        request_timeout_ms=request_timeout_ms,
        **connection.client_options(),
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return []
        response = await admin.create_topics([_new_topic(spec, connection) for spec in missing])
    except KafkaError as exc:
        raise BrokerError(f"cannot create topics on {bootstrap}: {exc}") from exc
    finally:
        await admin.close()
    return _created(response.topic_errors)


def _new_topic(spec: TopicSpec, connection: KafkaConnection) -> NewTopic:
    configs = {
        MAX_MESSAGE_BYTES: str(MAX_RECORD_BYTES),
        **connection.topic_configs(),
        **spec.configs,
    }
    replicas = spec.replication_factor or connection.replication_factor
    return NewTopic(spec.name, spec.partitions, replicas, topic_configs=configs)


def _created(topic_errors: Sequence[tuple[str, int, str | None]]) -> list[str]:
    created, failures = [], []
    for name, code, message in topic_errors:
        if code == 0:
            created.append(name)
        elif code != _TOPIC_ALREADY_EXISTS:  # another process won the race: fine
            failures.append(f"{name}: {message or 'error'} (Kafka error code {code})")
    if failures:
        raise BrokerError("cannot create topics: " + "; ".join(failures))
    return created


async def broker_answers(
    bootstrap: str, *, timeout: float = 2.0, connection: KafkaConnection | None = None
) -> bool:
    """Whether a Kafka client can fetch cluster metadata from ``bootstrap`` now."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        # A silent TCP probe first: the Kafka client logs an error for every refusal.
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    options = (connection or KafkaConnection()).client_options()
    client = AIOKafkaClient(
        bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000), **options
    )
    try:
        await asyncio.wait_for(client.bootstrap(), timeout)
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await client.close()
    return True
