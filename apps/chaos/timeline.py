"""The run's own log of what it did and saw, each entry stamped with its time in the run.

Written as JSONL as it happens (so a run that is cut short still leaves its record) and
kept in memory for the report. It records the runner's actions (orders placed, faults
started and ended, processes killed, decisions sent); the audit never reads it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any


class Timeline:
    def __init__(self, path: Path) -> None:
        self.started_at = datetime.now(UTC)
        self._origin = time.monotonic()
        self.entries: list[dict[str, Any]] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8")

    def now(self) -> float:
        """Seconds since the run began."""
        return time.monotonic() - self._origin

    def record(self, kind: str, **fields: Any) -> dict[str, Any]:
        entry = {"t": round(self.now(), 3), "kind": kind, **fields}
        self.entries.append(entry)
        if self._file.closed:
            return entry
        self._file.write(json.dumps(entry, default=str) + "\n")
        self._file.flush()
        return entry

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [e for e in self.entries if e["kind"] in kinds]

    def close(self) -> None:
        self._file.close()
