"""How every Kafka client of a deployment connects: TLS, SASL, and how topics are made.

Read from ``STEPSTREAM_KAFKA_*`` variables by every process (``KafkaSettings`` extends
it), and by topic administration, so that one set of variables secures every client:

- ``SECURITY_PROTOCOL``: PLAINTEXT (default), SSL, SASL_PLAINTEXT or SASL_SSL;
- ``SASL_MECHANISM``: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, with ``SASL_USERNAME`` and
  ``SASL_PASSWORD``;
- ``SSL_CAFILE`` (the brokers' CA; the system's CAs without it), ``SSL_CERTFILE`` and
  ``SSL_KEYFILE`` (a client certificate, for mutual TLS), ``SSL_KEY_PASSWORD``,
  ``SSL_CHECK_HOSTNAME`` (default true);
- ``REPLICATION_FACTOR``: the replicas of each topic stepstream makes (default 1; 3 on a
  production cluster), and ``MIN_INSYNC_REPLICAS`` for them (the broker's default
  when unset).
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


class KafkaConnection(BaseSettings):
    """The security and topic settings shared by every Kafka client of a deployment."""

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_KAFKA_", frozen=True, extra="ignore")

    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    replication_factor: int = Field(default=1, ge=1)
    min_insync_replicas: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        sasl = self.security_protocol.startswith("SASL_")
        password = self.sasl_password.get_secret_value() if self.sasl_password else ""
        if sasl and not (self.sasl_mechanism and self.sasl_username and password):
            raise ValueError(
                f"security_protocol {self.security_protocol} needs STEPSTREAM_KAFKA_SASL_MECHANISM,"
                " STEPSTREAM_KAFKA_SASL_USERNAME and STEPSTREAM_KAFKA_SASL_PASSWORD"
            )
        if not sasl and self.sasl_mechanism is not None:
            raise ValueError(
                f"sasl_mechanism {self.sasl_mechanism} is set but security_protocol is"
                f" {self.security_protocol}: use SASL_PLAINTEXT or SASL_SSL"
            )
        tls = self.security_protocol in ("SSL", "SASL_SSL")
        files = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
        }
        given = {name: path for name, path in files.items() if path is not None}
        if given and not tls:
            raise ValueError(
                f"{', '.join(given)} set but security_protocol is {self.security_protocol}:"
                " use SSL or SASL_SSL"
            )
        for name, path in given.items():
            if not path.is_file():
                raise ValueError(f"{name} {path} is not a readable file")
        if (self.ssl_keyfile is None) != (self.ssl_certfile is None):
            raise ValueError("ssl_certfile and ssl_keyfile go together (a client certificate)")
        if (
            self.min_insync_replicas is not None
            and self.min_insync_replicas > self.replication_factor
        ):
            raise ValueError("min_insync_replicas cannot exceed replication_factor")
        return self

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client (producer, consumer, admin)."""
        options: dict[str, Any] = {"security_protocol": self.security_protocol}
        if self.security_protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = self.ssl_context()
        if self.sasl_mechanism is not None:
            assert self.sasl_password is not None  # checked above
            options["sasl_mechanism"] = self.sasl_mechanism
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return options

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(
            cafile=None if self.ssl_cafile is None else str(self.ssl_cafile)
        )
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile is not None and self.ssl_keyfile is not None:
            password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None
            context.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile), password)
        return context

    def topic_configs(self) -> dict[str, str]:
        """Configs given to every topic stepstream makes, beyond its own."""
        if self.min_insync_replicas is None:
            return {}
        return {"min.insync.replicas": str(self.min_insync_replicas)}
