"""The scenario's faults, played on time: simulator faults set and cleared, processes killed
and stalled. Only processes of the stack under test are signalled, by the pids its
supervisor recorded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from apps.chaos.scenario import CarrierFault, Fault, KillFault, StallFault, StripeFault
from apps.chaos.timeline import Timeline

PidOf = Callable[[str], int | None]
# Whether some order is in this phase now ("compensation", "review").
InPhase = Callable[[str], Awaitable[bool]]


async def _never(phase: str) -> bool:
    return False


def label(fault: Fault) -> str:
    match fault:
        case KillFault(process=process, during=None):
            return f"kill -9 {process}"
        case KillFault(process=process, during=phase):
            return f"kill -9 {process} in {phase}"
        case StallFault(process=process):
            return f"stall {process}"
        case CarrierFault(down=True):
            return "carrier down"
        case CarrierFault():
            return "carrier " + _rates(
                fault,
                {
                    "rate_429": "429",
                    "rate_503": "503",
                    "rate_timeout": "time-out",
                    "rate_malformed": "malformed",
                    "rate_reject": "reject",
                },
                latency=fault.latency_ms,
            )
        case StripeFault():
            return "stripe " + _rates(
                fault, {"rate_limit_rate": "429", "error_rate": "500"}, latency=fault.latency_ms
            )
    raise AssertionError(fault)


def _rates(fault: Any, names: dict[str, str], *, latency: float) -> str:
    parts = [f"{short} {getattr(fault, k):.0%}" for k, short in names.items() if getattr(fault, k)]
    if latency:
        parts.append(f"+{latency:g} ms")
    return ", ".join(parts) or "healthy"


def carrier_settings(active: Sequence[CarrierFault], seed: int) -> dict[str, Any]:
    """The carrier's fault settings while ``active`` windows overlap: rates add up (scaled
    down to fit when they pass 1), the longest delays and latencies win."""
    if any(f.down for f in active):
        return {"rate_503": 1.0, "seed": seed}
    keys = ("rate_429", "rate_503", "rate_timeout", "rate_malformed", "rate_reject")
    rates = {key: sum(getattr(f, key) for f in active) for key in keys}
    total = sum(rates.values())
    if total > 1.0:
        rates = {key: value / total for key, value in rates.items()}
    settings: dict[str, Any] = {key: value for key, value in rates.items() if value}
    settings["seed"] = seed
    hints = [f.retry_after_seconds for f in active if f.retry_after_seconds is not None]
    if hints:
        settings["retry_after_seconds"] = max(hints)
    if rates["rate_timeout"]:
        settings["timeout_delay_seconds"] = max(f.timeout_delay_seconds for f in active)
    latency = max((f.latency_ms for f in active), default=0.0)
    if latency:
        settings["latency"] = {"distribution": "fixed", "mean_ms": latency}
    return settings


def stripe_settings(active: Sequence[StripeFault], seed: int) -> dict[str, Any]:
    limit = sum(f.rate_limit_rate for f in active)
    error = sum(f.error_rate for f in active)
    if limit + error > 1.0:
        limit, error = limit / (limit + error), error / (limit + error)
    hints = [f.retry_after_seconds for f in active if f.retry_after_seconds is not None]
    return {
        "rate_limit_rate": limit,
        "error_rate": error,
        "latency_ms": max((f.latency_ms for f in active), default=0),
        "retry_after_seconds": max(hints) if hints else None,
        "seed": seed,
    }


@dataclass(frozen=True)
class Step:
    at: float
    index: int
    begins: bool
    fault: Fault


def steps(faults: Sequence[Fault], placing_seconds: float) -> list[Step]:
    """Every start and end of every fault, in time order (ends before starts at a tie)."""
    found: list[Step] = []
    for index, fault in enumerate(faults):
        start, end = fault.window(placing_seconds)
        found.append(Step(start, index, True, fault))
        if not isinstance(fault, KillFault):
            found.append(Step(end, index, False, fault))
    return sorted(found, key=lambda s: (s.at, s.begins, s.index))


class FaultPlayer:
    """Plays the steps against one stack; `heal()` undoes what is still in force."""

    def __init__(
        self,
        faults: Sequence[Fault],
        *,
        placing_seconds: float,
        seed: int,
        timeline: Timeline,
        pid_of: PidOf,
        set_carrier: Callable[[dict[str, Any]], Awaitable[Any]],
        set_stripe: Callable[[dict[str, Any]], Awaitable[Any]],
        in_phase: InPhase = _never,
    ) -> None:
        self.faults = list(faults)
        self.placing_seconds = placing_seconds
        self.seed = seed
        self.timeline = timeline
        self.pid_of = pid_of
        self.set_carrier = set_carrier
        self.set_stripe = set_stripe
        self.in_phase = in_phase
        self._active: set[int] = set()
        self._stalled: dict[int, int] = {}
        self._changes = 0

    async def play(self, origin: float) -> None:
        """Run every step at ``origin`` + its time (timeline seconds)."""
        for step in steps(self.faults, self.placing_seconds):
            delay = origin + step.at - self.timeline.now()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._do(step)

    async def _do(self, step: Step) -> None:
        fault, name = step.fault, label(step.fault)
        if step.begins and not isinstance(fault, KillFault):
            self.timeline.record("fault-start", fault=step.index, label=name, type=fault.kind)
        match fault:
            case KillFault(process=process, during=phase, wait_seconds=wait):
                if phase is not None:
                    found = await self._until_in(phase, wait)
                    self.timeline.record("phase", fault=step.index, phase=phase, found=found)
                pid = await self._pid(process)
                self.timeline.record("fault-start", fault=step.index, label=name, type=fault.kind)
                if pid is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                self.timeline.record("killed", fault=step.index, process=process, pid=pid)
                self.timeline.record("fault-end", fault=step.index, label=name, type=fault.kind)
                return
            case StallFault(process=process):
                await self._stall(step, process)
            case CarrierFault() | StripeFault():
                (self._active.add if step.begins else self._active.discard)(step.index)
                await self._apply(type(fault))
        if not step.begins:
            self.timeline.record("fault-end", fault=step.index, label=name, type=fault.kind)

    async def _stall(self, step: Step, process: str) -> None:
        if step.begins:
            pid = await self._pid(process)
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
                self._stalled[step.index] = pid
            self.timeline.record("stopped", fault=step.index, process=process, pid=pid)
        elif (pid := self._stalled.pop(step.index, None)) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
            self.timeline.record("continued", fault=step.index, process=process, pid=pid)

    async def _until_in(self, phase: str, wait: float) -> bool:
        deadline = self.timeline.now() + wait
        while self.timeline.now() < deadline:
            with contextlib.suppress(Exception):  # a store busy with the run: ask again
                if await self.in_phase(phase):
                    return True
            await asyncio.sleep(0.25)
        return False

    async def _pid(self, process: str, wait: float = 15.0) -> int | None:
        """The process's pid; one being restarted is waited for a little."""
        deadline = self.timeline.now() + wait
        while (pid := self.pid_of(process)) is None and self.timeline.now() < deadline:
            await asyncio.sleep(0.2)
        return pid

    async def _apply(self, kind: type[CarrierFault] | type[StripeFault]) -> None:
        self._changes += 1
        seed = self.seed * 1000 + self._changes
        active = [self.faults[i] for i in sorted(self._active)]
        if kind is CarrierFault:
            carrier = [f for f in active if isinstance(f, CarrierFault)]
            settings = carrier_settings(carrier, seed)
            await self.set_carrier(settings)
        else:
            stripe = [f for f in active if isinstance(f, StripeFault)]
            settings = stripe_settings(stripe, seed)
            await self.set_stripe(settings)
        self.timeline.record("faults-set", target=kind.__name__, settings=settings)

    async def heal(self) -> None:
        """Continue what is stopped and clear the simulators' faults."""
        for pid in self._stalled.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
        self._stalled.clear()
        self._active.clear()
        await self.set_carrier({})
        await self.set_stripe(stripe_settings([], self.seed))
