"""Starting, stopping and administering the embedded broker."""

from __future__ import annotations

import socket
import stat
from pathlib import Path

import pytest

from stepstream.broker import BrokerError, EmbeddedBroker, TopicSpec, broker_answers, ensure_topics
from tests.messaging.support import unique


def fake_binary(tmp_path: Path, script: str) -> str:
    path = tmp_path / "not-a-broker"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_a_started_broker_answers_and_a_stopped_one_does_not(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "broker.log"
    broker = EmbeddedBroker(log_path=log)

    async with broker:
        assert broker.running and broker.pid is not None
        assert broker.bootstrap_servers.startswith("127.0.0.1:")
        assert await broker_answers(broker.bootstrap_servers)

    assert not broker.running and broker.pid is None
    assert not await broker_answers(broker.bootstrap_servers)
    assert "tansu" in log.read_text()


async def test_a_restarted_broker_keeps_its_address_and_starts_empty() -> None:
    broker = EmbeddedBroker()
    async with broker:
        address = broker.bootstrap_servers
        await ensure_topics(address, [TopicSpec("before-restart")])

    async with broker:
        assert broker.bootstrap_servers == address
        assert await ensure_topics(address, [TopicSpec("before-restart")]) == ["before-restart"]


def test_the_address_is_unknown_until_a_port_is_chosen() -> None:
    with pytest.raises(BrokerError, match="no port yet"):
        _ = EmbeddedBroker().bootstrap_servers
    assert EmbeddedBroker(port=19999).bootstrap_servers == "127.0.0.1:19999"


def test_an_impossible_port_is_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 65535"):
        EmbeddedBroker(port=70000)


async def test_a_busy_port_is_refused_before_launching() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(BrokerError, match=f"port {port} on 127.0.0.1 is already in use"):
            await EmbeddedBroker(port=port).start()


async def test_a_broker_that_exits_at_once_is_reported_with_its_output(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path, 'echo "bad flag: $2" >&2; exit 3')

    with pytest.raises(BrokerError) as caught:
        await EmbeddedBroker(binary=binary).start()

    assert "exited with code 3" in str(caught.value)
    assert "bad flag: --listener-url" in str(caught.value)


async def test_a_broker_that_never_answers_is_killed_and_reported(tmp_path: Path) -> None:
    binary = fake_binary(tmp_path, 'echo "warming up"; exec sleep 60')
    broker = EmbeddedBroker(binary=binary, start_timeout=0.3)

    with pytest.raises(BrokerError, match=r"did not answer .* within 0\.3s") as caught:
        await broker.start()

    assert "warming up" in str(caught.value)
    assert not broker.running


async def test_a_missing_binary_is_reported_and_leaves_no_log_behind(tmp_path: Path) -> None:
    broker = EmbeddedBroker(binary=str(tmp_path / "absent"))

    with pytest.raises(BrokerError, match="cannot run the embedded broker"):
        await broker.start()

    assert broker.log_path is None


async def test_ensuring_topics_creates_only_what_is_missing(broker: EmbeddedBroker) -> None:
    one, two = unique("topic"), unique("topic")

    first = await ensure_topics(broker.bootstrap_servers, [TopicSpec(one, partitions=2)])
    second = await ensure_topics(
        broker.bootstrap_servers, [TopicSpec(one, partitions=5), TopicSpec(two)]
    )
    third = await ensure_topics(broker.bootstrap_servers, [TopicSpec(one), TopicSpec(two)])

    assert (first, second, third) == ([one], [two], [])


async def test_topics_are_created_with_their_partition_count(broker: EmbeddedBroker) -> None:
    from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

    name = unique("topic")
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(name, partitions=4)])

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap_servers)
    await producer.start()
    try:
        assert await producer.partitions_for(name) == {0, 1, 2, 3}
    finally:
        await producer.stop()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (lambda: TopicSpec("bad name"), "topic name 'bad name' is invalid"),
        (lambda: TopicSpec("t", partitions=0), "partitions must be at least 1"),
        (lambda: TopicSpec("t", replication_factor=0), "replication_factor must be at least 1"),
    ],
)
def test_an_invalid_topic_spec_is_refused(spec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        spec()  # type: ignore[operator]


async def test_creating_topics_on_a_broker_that_is_not_there_fails_clearly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(BrokerError, match=f"cannot create topics on 127.0.0.1:{port}"):
        await ensure_topics(f"127.0.0.1:{port}", [TopicSpec("t")], request_timeout_ms=1000)
