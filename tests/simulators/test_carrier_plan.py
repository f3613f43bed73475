"""The seeded fault plan on its own: shares, determinism and latency distributions."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from simulators.carrier import (
    ExponentialLatency,
    Fault,
    FaultSettings,
    FixedLatency,
    MalformedKind,
    UniformLatency,
)
from simulators.carrier.faults import FaultPlan

from .carrier_fixtures import binomial_tolerance


def draws(settings: FaultSettings, n: int) -> list[Fault | None]:
    plan = FaultPlan(settings)
    return [plan.draw().fault for _ in range(n)]


def test_a_healthy_plan_draws_no_fault() -> None:
    assert set(draws(FaultSettings(seed=1), 1000)) == {None}


@pytest.mark.parametrize(
    ("field", "fault"),
    [
        ("rate_429", Fault.RATE_LIMITED),
        ("rate_503", Fault.UNAVAILABLE),
        ("rate_timeout", Fault.TIMEOUT),
        ("rate_malformed", Fault.MALFORMED),
        ("rate_reject", Fault.REJECT),
    ],
)
def test_a_rate_of_one_draws_that_fault_every_time(field: str, fault: Fault) -> None:
    settings = FaultSettings.model_validate({field: 1.0, "seed": 3})
    assert set(draws(settings, 1000)) == {fault}


def test_each_fault_is_drawn_in_its_configured_share() -> None:
    n = 20_000
    settings = FaultSettings(
        rate_429=0.2, rate_503=0.05, rate_timeout=0.01, rate_malformed=0.1, rate_reject=0.3, seed=8
    )
    counts = Counter(draws(settings, n))
    shares: dict[Fault | None, float] = dict(settings.rates())
    shares[None] = 1 - sum(shares.values())
    for fault, share in shares.items():
        assert abs(counts[fault] - n * share) <= binomial_tolerance(n, share), fault


def test_the_same_seed_draws_the_same_sequence_and_another_seed_does_not() -> None:
    settings = FaultSettings(rate_429=0.3, rate_malformed=0.3, seed=11)
    again = settings.model_copy()
    other = settings.model_copy(update={"seed": 12})
    assert draws(settings, 200) == draws(again, 200)
    assert draws(settings, 200) != draws(other, 200)


def test_latency_settings_do_not_change_which_requests_fail() -> None:
    plain = FaultSettings(rate_503=0.4, seed=21)
    slow = plain.model_copy(
        update={"latency": UniformLatency(distribution="uniform", min_ms=1, max_ms=9)}
    )
    assert draws(plain, 300) == draws(slow, 300)


def test_malformed_answers_take_only_the_allowed_kinds() -> None:
    settings = FaultSettings(rate_malformed=1.0, malformed_kinds=[MalformedKind.HTML], seed=2)
    plan = FaultPlan(settings)
    assert {plan.draw().malformed_kind for _ in range(100)} == {MalformedKind.HTML}
    every_kind = FaultPlan(FaultSettings(rate_malformed=1.0, seed=2))
    assert {every_kind.draw().malformed_kind for _ in range(300)} == set(MalformedKind)


def latencies(settings: FaultSettings, n: int) -> list[float]:
    plan = FaultPlan(settings)
    return [plan.draw().latency_seconds for _ in range(n)]


def test_fixed_latency_is_always_the_mean() -> None:
    settings = FaultSettings(latency=FixedLatency(distribution="fixed", mean_ms=25), seed=1)
    assert set(latencies(settings, 50)) == {0.025}


def test_uniform_latency_stays_within_its_bounds_and_spreads_over_them() -> None:
    latency = UniformLatency(distribution="uniform", min_ms=10, max_ms=30)
    values = latencies(FaultSettings(latency=latency, seed=4), 2000)
    assert all(0.010 <= v <= 0.030 for v in values)
    assert min(values) < 0.012 and max(values) > 0.028


def test_exponential_latency_has_the_configured_mean() -> None:
    n, mean = 4000, 0.020
    latency = ExponentialLatency(distribution="exponential", mean_ms=mean * 1000)
    values = latencies(FaultSettings(latency=latency, seed=6), n)
    # An exponential's standard deviation equals its mean; allow four standard errors.
    assert abs(sum(values) / n - mean) <= 4 * mean / math.sqrt(n)
    assert min(values) >= 0


def test_a_plan_without_a_seed_takes_the_default_and_reports_it() -> None:
    assert FaultPlan(FaultSettings(), default_seed=77).settings.seed == 77
    assert FaultPlan(FaultSettings(seed=5), default_seed=77).settings.seed == 5
    assert isinstance(FaultPlan(FaultSettings()).settings.seed, int)
