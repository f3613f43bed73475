"""RFC 3339 timestamps as ASL writes them (Wait's Timestamp, the context object's times)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# ASL requires an upper-case T and an explicit offset (Z or +hh:mm).
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_timestamp(text: str) -> datetime | None:
    """The moment `text` names, or None when it is not an ASL timestamp."""
    if not _RFC3339.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, as Step Functions writes context times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
