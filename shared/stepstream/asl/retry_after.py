"""Retry-After: a failed task's hint of how long to wait before trying it again.

AWS has no such thing: a Retry waits the back-off its definition draws. A carrier or a
payment API that answers 429 often says how long it wants to be left alone, and calling
it sooner only earns another 429. So a task's failure may carry a hint
(``retry_after_seconds``, an attribute of the raised error that the worker puts in its
failure reply), and the retry the definition allows then waits at least that long, but
never beyond the retrier's MaxDelaySeconds when it has one.

The back-off is drawn exactly as without a hint, so a definition whose tasks never send
one draws the same jitter and records the same history as on AWS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

from stepstream.asl.definition import Retrier

# ASL's own ceiling for MaxDelaySeconds; a longer hint is no more useful than this.
MAX_RETRY_AFTER_SECONDS: Final = 31_622_400

Reason = Literal["backoff", "retry-after", "capped by MaxDelaySeconds"]
BACKOFF: Final = "backoff"
RETRY_AFTER: Final = "retry-after"
CAPPED: Final = "capped by MaxDelaySeconds"


@dataclass(frozen=True, slots=True)
class RetryDelay:
    """The wait chosen before a retry, and why."""

    seconds: float
    reason: Reason


def choose_delay(retrier: Retrier, drawn: float, hint: float | None) -> RetryDelay:
    """The wait before the retry: the drawn back-off, or the hint when that is longer.

    A hint beyond the retrier's MaxDelaySeconds waits MaxDelaySeconds: the definition's
    cap is its author's promise of how long a retry may take.
    """
    if hint is None or hint <= drawn:
        return RetryDelay(drawn, BACKOFF)
    cap = retrier.max_delay_seconds
    if cap is not None and hint > cap:
        return RetryDelay(max(drawn, float(cap)), CAPPED)
    # Rounded up to the millisecond, as the history records delays: never shorter.
    return RetryDelay(math.ceil(hint * 1000) / 1000, RETRY_AFTER)


def retry_after_hint(value: object) -> float | None:
    """A hint from whatever an error's ``retry_after_seconds`` holds; None if unusable.

    A hint is advice: one that is not a finite, non-negative number is dropped rather
    than allowed to fail the report of the error it came with.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return float(min(value, MAX_RETRY_AFTER_SECONDS))


def hint_of(exc: BaseException) -> float | None:
    """The retry-after hint ``exc`` carries, if any."""
    return retry_after_hint(getattr(exc, "retry_after_seconds", None))
