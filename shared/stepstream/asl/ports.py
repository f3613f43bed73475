"""What the engine needs from the world, passed in by its caller.

The engine never reads the wall clock, never draws from a global random source and
never sleeps: a one-shot local run hands it a virtual clock and a seeded source, the
orchestrator the real ones. Whatever the engine draws is written into the history, so
replaying a history never draws again.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class Entropy(Protocol):
    def random(self) -> float:
        """A float in [0, 1)."""
        ...

    def uuid(self) -> str:
        """A version-4 UUID as text."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """A clock that moves only when told to; a Wait of an hour costs nothing."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class SystemEntropy:
    """The operating system's randomness, for real executions."""

    def __init__(self) -> None:
        self._random = random.SystemRandom()

    def random(self) -> float:
        return self._random.random()

    def uuid(self) -> str:
        return str(uuid.uuid4())


class SeededEntropy:
    """Reproducible randomness: the same seed draws the same jitter and the same UUIDs."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed)

    def random(self) -> float:
        return self._rng.random()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
