"""TLS, SASL and topic replication: what the STEPSTREAM_KAFKA_* variables make of every client."""

from __future__ import annotations

import ssl

import certifi
import pytest
from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]
from aiokafka.admin import AIOKafkaAdminClient  # type: ignore[import-untyped]
from pydantic import ValidationError

from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.broker.admin import _new_topic
from stepstream.broker.connection import KafkaConnection
from stepstream.messaging.kafka import KafkaSettings
from tests.messaging.support import unique


def test_by_default_clients_speak_plaintext_without_sasl() -> None:
    assert KafkaSettings().client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_scram_over_tls_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("STEPSTREAM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("STEPSTREAM_KAFKA_SASL_USERNAME", "shop")
    monkeypatch.setenv("STEPSTREAM_KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("STEPSTREAM_KAFKA_SSL_CAFILE", certifi.where())

    options = KafkaSettings().client_options()

    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("shop", "s3cret")
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.cert_store_stats()["x509_ca"] > 0
    # The secret stays out of the settings' text.
    assert "s3cret" not in repr(KafkaSettings())


async def test_every_aiokafka_client_accepts_the_options() -> None:
    connection = KafkaConnection(
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="PLAIN",
        sasl_username="shop",
        sasl_password="pw",  # type: ignore[arg-type]
    )
    producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **connection.client_options())
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:1", **connection.client_options())
    for client in (producer.client, admin._client):
        assert client._security_protocol == "SASL_PLAINTEXT"
        assert client._sasl_mechanism == "PLAIN"
        assert client._sasl_plain_username == "shop"
    await producer.stop()
    await admin.close()


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"security_protocol": "SASL_SSL"}, "needs STEPSTREAM_KAFKA_SASL_MECHANISM"),
        ({"sasl_mechanism": "PLAIN"}, "use SASL_PLAINTEXT or SASL_SSL"),
        ({"security_protocol": "SSL", "ssl_cafile": "/nowhere/ca.pem"}, "not a readable file"),
        ({"ssl_cafile": certifi.where()}, "use SSL or SASL_SSL"),
        ({"security_protocol": "SSL", "ssl_certfile": certifi.where()}, "go together"),
        ({"replication_factor": 1, "min_insync_replicas": 2}, "cannot exceed"),
        ({"security_protocol": "TLS"}, "security_protocol"),
        ({"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI"}, "sasl_mechanism"),
    ],
)
def test_settings_that_cannot_connect_are_refused_naming_what_is_wrong(
    settings: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValidationError, match=complaint):
        KafkaConnection(**settings)  # type: ignore[arg-type]


def test_new_topics_get_the_deployments_replication_and_min_insync_replicas() -> None:
    production = KafkaConnection(replication_factor=3, min_insync_replicas=2)

    made = _new_topic(TopicSpec("stepstream.replies", partitions=12), production)
    pinned = _new_topic(
        TopicSpec("stepstream.marker", partitions=1, replication_factor=1), production
    )

    assert (made.num_partitions, made.replication_factor) == (12, 3)
    assert made.topic_configs["min.insync.replicas"] == "2"
    assert pinned.replication_factor == 1


async def test_an_existing_topic_keeps_its_partitions_and_configs(broker: EmbeddedBroker) -> None:
    name = unique("tuned")
    tuned = TopicSpec(name, partitions=2, configs={"retention.ms": "3600000"})
    assert await ensure_topics(broker.bootstrap_servers, [tuned]) == [name]

    again = TopicSpec(name, partitions=8, configs={"retention.ms": "60000"})
    assert await ensure_topics(broker.bootstrap_servers, [again]) == []

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap_servers)
    await admin.start()
    try:
        [described] = await admin.describe_topics([name])
    finally:
        await admin.close()
    assert len(described["partitions"]) == 2
