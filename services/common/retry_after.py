"""Reading an HTTP Retry-After header (RFC 9110 section 10.2.3), for any service's client."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP date; None if absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return float(max(0, math.ceil(seconds)))


def retry_after_of(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """The Retry-After of response ``headers``, whatever the case of the header's name."""
    for name, value in headers.items():
        if name.lower() == "retry-after":
            return parse_retry_after(value, now=now)
    return None
