"""The fault schedule: windows merge into simulator settings, steps come in time order,
and the player signals only the pid it is given."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from apps.chaos.mix import orders
from apps.chaos.scenario import CarrierFault, KillFault, Mix, StallFault, StripeFault
from apps.chaos.schedule import FaultPlayer, carrier_settings, steps, stripe_settings
from apps.chaos.timeline import Timeline


def carrier(**fields: Any) -> CarrierFault:
    return CarrierFault.model_validate({"kind": "carrier", "from": 0, "to": 10, **fields})


def test_overlapping_carrier_windows_add_their_rates_and_keep_the_longest_hints() -> None:
    merged = carrier_settings(
        [
            carrier(rate_429=0.2, retry_after_seconds=1),
            carrier(rate_429=0.1, rate_503=0.3, retry_after_seconds=3, latency_ms=200),
        ],
        seed=7,
    )
    assert abs(merged["rate_429"] - 0.3) < 1e-9
    assert (merged["rate_503"], merged["retry_after_seconds"], merged["seed"]) == (0.3, 3, 7)
    assert merged["latency"] == {"distribution": "fixed", "mean_ms": 200}


def test_rates_past_one_are_scaled_to_fit_and_down_means_every_answer_503() -> None:
    merged = carrier_settings([carrier(rate_429=0.8), carrier(rate_503=0.8)], seed=1)
    assert abs(merged["rate_429"] + merged["rate_503"] - 1.0) < 1e-9
    assert carrier_settings([carrier(rate_429=0.5), carrier(down=True)], seed=1) == {
        "rate_503": 1.0,
        "seed": 1,
    }
    assert carrier_settings([], seed=1) == {"seed": 1}


def test_stripe_windows_merge_too() -> None:
    fault = StripeFault.model_validate(
        {
            "kind": "stripe",
            "from": 0,
            "to": 1,
            "rate_limit_rate": 0.7,
            "error_rate": 0.6,
            "retry_after_seconds": 2,
        }
    )
    merged = stripe_settings([fault], seed=3)
    assert abs(merged["rate_limit_rate"] + merged["error_rate"] - 1.0) < 1e-9
    assert merged["retry_after_seconds"] == 2


def test_steps_are_in_time_order_with_ends_before_starts_at_a_tie() -> None:
    faults = [
        carrier(**{"from": "50%", "to": "100%"}),
        KillFault.model_validate({"kind": "kill", "process": "broker", "at": 2}),
        carrier(**{"from": 0, "to": "50%"}),
    ]
    played = [(s.at, s.index, s.begins) for s in steps(faults, placing_seconds=10)]
    assert played == [(0, 2, True), (2, 1, True), (5, 2, False), (5, 0, True), (10, 0, False)]


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def test_the_player_stalls_then_kills_the_process_it_is_pointed_at(tmp_path: Path) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        timeline = Timeline(tmp_path / "events.jsonl")
        settings: list[dict[str, Any]] = []

        async def keep(value: dict[str, Any]) -> None:
            settings.append(value)

        faults = [
            StallFault.model_validate(
                {"kind": "stall", "process": "book-shipment", "from": 0, "to": 0.3}
            ),
            KillFault.model_validate({"kind": "kill", "process": "book-shipment", "at": 0.6}),
        ]
        player = FaultPlayer(
            faults,
            placing_seconds=1,
            seed=1,
            timeline=timeline,
            pid_of=lambda name: victim.pid,
            set_carrier=keep,
            set_stripe=keep,
        )
        playing = asyncio.create_task(player.play(timeline.now()))
        await asyncio.sleep(0.15)
        assert _state(victim.pid) == "T"  # stopped
        await playing
        assert victim.wait(timeout=10) == -signal.SIGKILL
        kinds = [e["kind"] for e in timeline.entries]
        assert kinds == [
            "fault-start",
            "stopped",
            "continued",
            "fault-end",
            "fault-start",
            "killed",
            "fault-end",
        ]
    finally:
        victim.kill()
        victim.wait()


def test_the_same_seed_gives_the_same_orders_and_another_seed_others() -> None:
    mix = Mix(declined_card=0.2, rejected_address=0.2, rare_item=0.1)
    first = orders(mix, seed=5, count=200, prefix="t")
    assert first == orders(mix, seed=5, count=200, prefix="t")
    assert first != orders(mix, seed=6, count=200, prefix="t")
    cards = {o["paymentMethod"] for o in first}
    assert any("Declined" in c for c in cards) and "pm_card_visa" in cards
    assert any(o["address"]["line1"] == "REJECT" for o in first)
    assert all(o["amount"] == sum(i["qty"] * i["unitPrice"] for i in o["items"]) for o in first)


async def test_a_kill_during_a_phase_waits_for_it(tmp_path: Path) -> None:
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    asked: list[str] = []

    async def in_phase(phase: str) -> bool:
        asked.append(phase)
        return len(asked) >= 3  # compensation begins at the third look

    async def keep(value: dict[str, Any]) -> None:
        pass

    try:
        timeline = Timeline(tmp_path / "events.jsonl")
        kill = KillFault.model_validate(
            {"kind": "kill", "process": "reserve-stock", "at": 0, "during": "compensation"}
        )
        player = FaultPlayer(
            [kill],
            placing_seconds=1,
            seed=1,
            timeline=timeline,
            pid_of=lambda name: victim.pid,
            set_carrier=keep,
            set_stripe=keep,
            in_phase=in_phase,
        )
        await player.play(timeline.now())
        assert victim.wait(timeout=10) == -signal.SIGKILL
        assert asked == ["compensation"] * 3
        phase = next(e for e in timeline.entries if e["kind"] == "phase")
        started = next(e for e in timeline.entries if e["kind"] == "fault-start")
        assert phase["found"] is True and started["t"] >= phase["t"]
        assert started["label"] == "kill -9 reserve-stock in compensation"
    finally:
        victim.kill()
        victim.wait()
