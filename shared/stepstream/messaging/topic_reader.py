"""Reading a whole topic once, from its beginning to its current end.

For operator tools (the dead letters): a consumer without a group, so it commits
nothing and takes no partitions from anyone.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition  # type: ignore[import-untyped]
from aiokafka.errors import KafkaError  # type: ignore[import-untyped]

from stepstream.broker.connection import KafkaConnection
from stepstream.messaging.bus import BrokerUnreachable, Record


async def read_topic(bootstrap: str, topic: str, *, timeout: float = 30.0) -> list[Record]:
    """Every record of ``topic`` now there, by partition then offset; none if no topic."""
    consumer: Any = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        **KafkaConnection().client_options(),  # the deployment's TLS and SASL
    )
    try:
        await consumer.start()
    except (KafkaError, OSError, TimeoutError) as exc:
        await consumer.stop()  # a consumer that failed to start still holds its connections
        raise BrokerUnreachable(
            f"no broker of {bootstrap} answers: {str(exc) or type(exc).__name__}"
        ) from exc
    try:
        await consumer.topics()  # metadata of every topic, this one included
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            return []
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends: dict[Any, int] = await consumer.end_offsets(assigned)
        records: list[Record] = []
        async with asyncio.timeout(timeout):
            while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(timeout_ms=200)
                for tp, messages in batches.items():
                    records += [
                        Record(
                            topic=m.topic,
                            partition=m.partition,
                            offset=m.offset,
                            key=m.key,
                            value=m.value if m.value is not None else b"",
                            headers=tuple(m.headers or ()),
                        )
                        for m in messages
                        if m.offset < ends[tp]
                    ]
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()
