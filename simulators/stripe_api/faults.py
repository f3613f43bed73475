"""Faults injected into API requests for chaos tests, drawn from a seeded source.

A fault strikes before the endpoint acts, as an overloaded or failing Stripe front
would: nothing changes and nothing is stored under the request's idempotency key, so a
retry with the same key may go through. ``rate_limit_next`` and ``error_next`` make
the next requests fail for certain, for tests that need an exact sequence.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .errors import StripeError, api_error, rate_limited

Fault = Literal["rate_limit", "api_error"]


class FaultConfig(BaseModel):
    """What to inject. All rates are probabilities per API request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_limit_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    seed: int | None = None
    rate_limit_next: int = Field(default=0, ge=0)
    # Sent as Retry-After with every injected 429; none when left out.
    retry_after_seconds: int | None = Field(default=None, ge=0, le=3600)
    error_next: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        if self.rate_limit_rate + self.error_rate > 1.0:
            raise ValueError("rate_limit_rate + error_rate must not exceed 1")
        return self


class FaultCounts(BaseModel):
    requests: int = 0
    rate_limited: int = 0
    api_errors: int = 0


class FaultInjector:
    """Decides, request by request, whether a fault strikes, and counts what it did."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        return self._config

    @property
    def counts(self) -> FaultCounts:
        return self._counts.model_copy()

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration; counting and the random sequence start over."""
        self._config = config
        self._rng = random.Random(config.seed)
        self._rate_limit_next = config.rate_limit_next
        self._error_next = config.error_next
        self._counts = FaultCounts()

    @property
    def latency_seconds(self) -> float:
        return self._config.latency_ms / 1000

    def draw(self) -> StripeError | None:
        """The error to answer this request with, or None to let it through."""
        self._counts.requests += 1
        fault = self._next_fault()
        if fault == "rate_limit":
            self._counts.rate_limited += 1
            return rate_limited(self._config.retry_after_seconds)
        if fault == "api_error":
            self._counts.api_errors += 1
            return api_error()
        return None

    def _next_fault(self) -> Fault | None:
        if self._rate_limit_next > 0:
            self._rate_limit_next -= 1
            return "rate_limit"
        if self._error_next > 0:
            self._error_next -= 1
            return "api_error"
        if self._config.rate_limit_rate == 0 and self._config.error_rate == 0:
            return None
        roll = self._rng.random()
        if roll < self._config.rate_limit_rate:
            return "rate_limit"
        if roll < self._config.rate_limit_rate + self._config.error_rate:
            return "api_error"
        return None
