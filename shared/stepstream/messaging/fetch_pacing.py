"""How long a consumer's fetch may wait at the broker: short while records flow, long idle.

The embedded broker's fetch long-poll does not wake when new data arrives: it answers
after the request's full wait. A short wait keeps each hop quick, but a consumer with
nothing to read then asks several hundred times a second, and the broker answers each
time; a stack of eight consumers burnt most of a core doing nothing. So a consumer
that has read nothing for a while doubles its wait at each tick up to an idle ceiling,
and the first record it reads puts it back to the short wait at once. The price is
paid by the first message into an idle consumer: it waits up to the ceiling.
"""

from __future__ import annotations

# How often the pacer looks at the consumer: rarely enough to cost nothing idle, often
# enough that the wait reaches its ceiling within about a second of the idle threshold.
TICK_SECONDS = 0.1


class FetchPacer:
    """The fetch wait of one consumer, from when it last read a record.

    ``record_seen`` is called for every record (it only sets a flag unless the wait must
    drop); ``tick`` once every ``TICK_SECONDS`` with the time now.
    """

    def __init__(
        self, *, fast_ms: int, idle_ms: int, idle_after_seconds: float, now: float
    ) -> None:
        if fast_ms < 1:
            raise ValueError(f"fast_ms must be at least 1, not {fast_ms}")
        self.fast_ms = fast_ms
        self.idle_ms = max(idle_ms, fast_ms)
        self.idle_after_seconds = idle_after_seconds
        self.wait_ms = fast_ms
        self._last_record_at = now
        self._seen = False

    @property
    def adaptive(self) -> bool:
        """Whether the wait ever changes (not when the idle ceiling is the short wait)."""
        return self.idle_ms > self.fast_ms

    def record_seen(self) -> bool:
        """Note a record; True when the wait just dropped back to the short one."""
        self._seen = True
        if self.wait_ms == self.fast_ms:
            return False
        self.wait_ms = self.fast_ms
        return True

    def tick(self, now: float) -> int:
        """The wait to use from ``now`` on."""
        if self._seen:
            self._seen = False
            self._last_record_at = now
            self.wait_ms = self.fast_ms
        elif now - self._last_record_at >= self.idle_after_seconds:
            self.wait_ms = min(self.wait_ms * 2, self.idle_ms)
        return self.wait_ms
