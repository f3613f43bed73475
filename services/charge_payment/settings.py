"""The charge-payment service's settings, from ``STEPSTREAM_*`` variables.

- ``STRIPE_API_KEY`` (or ``STEPSTREAM_STRIPE_API_KEY``): the secret key; required for
  Stripe itself, optional for the local stand-in (any test key works there).
- ``STEPSTREAM_STRIPE_API_BASE``: the stand-in's address, e.g. ``http://127.0.0.1:12111``;
  unset means Stripe itself.
- ``STEPSTREAM_PAYMENTS_DATABASE_URL``: where payments are recorded; default a SQLite
  file ``charge-payment.db`` in ``STEPSTREAM_DATA_DIR``.
- the worker's: ``STEPSTREAM_KAFKA_*``, ``STEPSTREAM_TOPIC_PREFIX``, ``STEPSTREAM_CONCURRENCY``.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr

from services.common.running import ConfigurationError
from services.common.settings import ServiceSettings

# Any test-mode key is accepted by the stand-in; this one names who is calling.
STAND_IN_KEY = "sk_test_stepstream_local"
_SECRET_KEY_PREFIXES = ("sk_", "rk_")


class ChargePaymentSettings(ServiceSettings):
    stripe_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "STEPSTREAM_STRIPE_API_KEY", "STRIPE_API_KEY", "stripe_api_key"
        ),
    )
    stripe_api_base: str | None = None
    stripe_timeout_seconds: float = Field(default=20.0, gt=0)
    # The definition's Retry owns retries; the SDK's own are off unless asked for.
    stripe_max_network_retries: int = Field(default=0, ge=0, le=5)
    payments_database_url: str | None = None

    def api_key(self) -> str:
        """The Stripe secret key to use, or ``ConfigurationError`` saying what is missing."""
        key = self.stripe_api_key.get_secret_value() if self.stripe_api_key else ""
        if not key:
            if self.stripe_api_base:
                return STAND_IN_KEY
            raise ConfigurationError(
                "STRIPE_API_KEY is required to talk to Stripe (or set "
                "STEPSTREAM_STRIPE_API_BASE to the local Stripe stand-in's address)"
            )
        if not key.startswith(_SECRET_KEY_PREFIXES):
            raise ConfigurationError(
                f"STRIPE_API_KEY must be a Stripe secret key (sk_... or rk_...), "
                f"got one starting {key[:4]!r}"
            )
        return key

    def database(self) -> str:
        return self.database_url(self.payments_database_url, "charge-payment.db")
