"""A second, independent Kafka-protocol implementation: the mock cluster in librdkafka.

The embedded broker (Tansu) is one implementation of the protocol; the mock cluster that
librdkafka (the confluent-kafka wheel) runs inside a client is another, written apart
from it, with several brokers, partition leaders on different brokers and its own group
coordinator. Running the bus contract on both catches what only one of them forgives.

It creates a topic when a client first asks for it, with 4 partitions; it does not serve
CreateTopics to other clients, so tests that need a partition count other than 4 adapt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from confluent_kafka import Producer

AUTO_CREATED_PARTITIONS = 4


@contextmanager
def librdkafka_mock_cluster(brokers: int = 3) -> Iterator[str]:
    """A running mock cluster of ``brokers`` brokers on 127.0.0.1; yields its bootstrap."""
    quiet = logging.getLogger("librdkafka-mock")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    # The cluster lives inside this client: it ends when the client is collected.
    owner = Producer(
        {"bootstrap.servers": "unused", "test.mock.num.brokers": brokers, "logger": quiet}
    )
    metadata = owner.list_topics(timeout=10)
    yield ",".join(
        f"{b.host}:{b.port}" for b in sorted(metadata.brokers.values(), key=lambda b: b.id)
    )
    owner.flush(1)
    del owner
