"""Fault settings and the seeded plan that decides each request's fate.

Every carrier API request draws one uniform number from a generator seeded by the
settings' seed. The fault rates are laid end to end on [0, 1), in the order 429, 503,
time-out, malformed, reject, and the number picks the fault whose stretch it lands in (or
none past their sum). So the observed share of each fault is its configured rate, the
rates must add up to at most 1, and a given seed and request order always give the same
sequence of outcomes. Latency comes from a second generator, so changing the latency
never changes which requests fail.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Millis = Annotated[float, Field(ge=0.0, le=60_000.0)]


class Fault(StrEnum):
    """What the simulator does to a request instead of (or on top of) serving it."""

    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    MALFORMED = "malformed"
    REJECT = "reject"


class MalformedKind(StrEnum):
    """The ways a 200 answer can fail to be the documented JSON."""

    TRUNCATED_JSON = "truncated_json"
    HTML = "html"
    WRONG_FIELDS = "wrong_fields"


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FixedLatency(_Settings):
    distribution: Literal["fixed"]
    mean_ms: Millis


class UniformLatency(_Settings):
    distribution: Literal["uniform"]
    min_ms: Millis
    max_ms: Millis

    @model_validator(mode="after")
    def _ordered(self) -> UniformLatency:
        if self.min_ms > self.max_ms:
            raise ValueError(f"min_ms ({self.min_ms}) must not exceed max_ms ({self.max_ms})")
        return self


class ExponentialLatency(_Settings):
    distribution: Literal["exponential"]
    mean_ms: Annotated[float, Field(gt=0.0, le=60_000.0)]


Latency = Annotated[
    FixedLatency | UniformLatency | ExponentialLatency, Field(discriminator="distribution")
]


class FaultSettings(_Settings):
    """The faults the carrier injects; the default is a perfectly healthy carrier.

    ``seed`` None means: use the simulator's own seed, or a fresh random one if it has
    none; the answer of ``GET /_admin/faults`` shows the seed actually in use.
    """

    rate_429: Rate = 0.0
    # The next this many API requests answer 429 for certain, before the seeded draws
    # begin: for tests that need an exact sequence.
    next_429: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    retry_after_seconds: Annotated[float, Field(ge=0.0, le=3600.0)] | None = None
    rate_503: Rate = 0.0
    rate_timeout: Rate = 0.0
    timeout_delay_seconds: Annotated[float, Field(gt=0.0, le=3600.0)] = 30.0
    rate_malformed: Rate = 0.0
    malformed_kinds: Annotated[list[MalformedKind], Field(min_length=1)] = Field(
        default_factory=lambda: list(MalformedKind)
    )
    rate_reject: Rate = 0.0
    latency: Latency | None = None
    seed: int | None = None

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultSettings:
        total = sum(rate for _, rate in self.rates())
        if total > 1.0 + 1e-9:
            names = " + ".join(f"rate_{_RATE_FIELDS[fault]}" for fault, _ in self.rates())
            raise ValueError(f"{names} must add up to at most 1, got {total:g}")
        return self

    def rates(self) -> list[tuple[Fault, float]]:
        """Each fault with its rate, in the order their stretches lie on [0, 1)."""
        return [
            (Fault.RATE_LIMITED, self.rate_429),
            (Fault.UNAVAILABLE, self.rate_503),
            (Fault.TIMEOUT, self.rate_timeout),
            (Fault.MALFORMED, self.rate_malformed),
            (Fault.REJECT, self.rate_reject),
        ]


_RATE_FIELDS = {
    Fault.RATE_LIMITED: "429",
    Fault.UNAVAILABLE: "503",
    Fault.TIMEOUT: "timeout",
    Fault.MALFORMED: "malformed",
    Fault.REJECT: "reject",
}


@dataclass(frozen=True, slots=True)
class Draw:
    """One request's fate: its fault (if any) and how long it takes before any answer."""

    fault: Fault | None
    malformed_kind: MalformedKind | None
    latency_seconds: float


class FaultPlan:
    """The fault settings in force and the seeded generators that apply them."""

    def __init__(self, settings: FaultSettings, *, default_seed: int | None = None) -> None:
        seed = settings.seed if settings.seed is not None else default_seed
        if seed is None:
            seed = secrets.randbits(32)
        self.settings = settings.model_copy(update={"seed": seed})
        self.seed: int = seed
        self._outcomes = random.Random(seed)
        self._latency = random.Random(f"latency:{seed}")
        self._forced_429 = settings.next_429

    def draw(self) -> Draw:
        """Decide the next request's fate; call once per request, in arrival order."""
        if self._forced_429 > 0:
            self._forced_429 -= 1
            return Draw(Fault.RATE_LIMITED, None, self._latency_seconds())
        fault = self._pick_fault(self._outcomes.random())
        kind = None
        if fault is Fault.MALFORMED:
            kind = self._outcomes.choice(self.settings.malformed_kinds)
        return Draw(fault=fault, malformed_kind=kind, latency_seconds=self._latency_seconds())

    def _pick_fault(self, point: float) -> Fault | None:
        edge = 0.0
        for fault, rate in self.settings.rates():
            edge += rate
            if point < edge:
                return fault
        return None

    def _latency_seconds(self) -> float:
        match self.settings.latency:
            case None:
                return 0.0
            case FixedLatency(mean_ms=mean):
                millis = mean
            case UniformLatency(min_ms=low, max_ms=high):
                millis = self._latency.uniform(low, high)
            case ExponentialLatency(mean_ms=mean):
                millis = self._latency.expovariate(1.0 / mean)
        return millis / 1000.0
