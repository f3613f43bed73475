"""The web desk reaches the stack's broker with the TLS and SASL of its own settings, as
every other process does, at the address of the stack it finds."""

from __future__ import annotations

import os
import ssl

import certifi
import pytest

from apps.desk.process import stack_api
from apps.desk.settings import DeskSettings
from stepstream.api.connect import publisher_settings
from stepstream.messaging.kafka import KafkaSettings


def test_the_desks_publisher_connects_with_the_configured_sasl_over_tls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only the settings object says how to connect: nothing is left to read elsewhere.
    for name in list(os.environ):
        if name.startswith("STEPSTREAM_KAFKA_"):
            monkeypatch.delenv(name)
    secured = KafkaSettings(
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="desk",
        sasl_password="s3cret",  # type: ignore[arg-type]
        ssl_cafile=certifi.where(),
        client_id="web-desk",
    )
    api = stack_api(DeskSettings(kafka=secured))

    # What connect() gives the desk's publisher once it has found the stack's broker.
    connection = publisher_settings(api.kafka, "kafka-0.kafka:9093")
    options = connection.client_options()

    assert connection.bootstrap_servers == "kafka-0.kafka:9093"
    assert connection.client_id == "web-desk"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("desk", "s3cret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
