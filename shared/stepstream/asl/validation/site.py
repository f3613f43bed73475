"""Places in a definition, and the list of problems found at them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from stepstream.asl.validation.errors import DefinitionError


@dataclass(frozen=True)
class Raw:
    """A location suffix reported by an expression checker, kept exactly as it wrote it."""

    text: str


Segment = str | int | Raw
Path = tuple[Segment, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def render(path: Path) -> str:
    """A path as JSONPath text: ``$.States['Call API'].Retry[0]``."""
    parts = ["$"]
    for segment in path:
        if isinstance(segment, Raw):
            parts.append(segment.text)
        elif isinstance(segment, int):
            parts.append(f"[{segment}]")
        elif _IDENTIFIER.match(segment):
            parts.append(f".{segment}")
        else:
            quoted = segment.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{quoted}']")
    return "".join(parts)


def _sort_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    # Indexes sort as numbers (Retry[2] before Retry[10]), and a field sorts right after
    # the object holding it, so a state's own errors come before those of its fields.
    return tuple(
        (0, s) if isinstance(s, int) else (2, s.text) if isinstance(s, Raw) else (1, s)
        for s in path
    )


def shown(value: Any) -> str:
    """A short rendering of a value for a message."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def kind(value: Any) -> str:
    """The JSON name of a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def described(value: Any) -> str:
    """A value's JSON type and the value itself, e.g. ``string "5"``; just ``null`` for null."""
    return "null" if value is None else f"{kind(value)} {shown(value)}"


@dataclass
class Issues:
    """Every problem found so far, in the order found."""

    found: list[tuple[Path, str | None, str]] = field(default_factory=list)

    def add(self, path: Path, state: str | None, message: str) -> None:
        entry = (path, state, message)
        if entry not in self.found:
            self.found.append(entry)

    def errors(self) -> list[DefinitionError]:
        ordered = sorted(self.found, key=lambda entry: _sort_key(entry[0]))
        return [DefinitionError(render(path), state, message) for path, state, message in ordered]


@dataclass(frozen=True)
class Site:
    """A place in the definition: its path and the innermost state it belongs to."""

    issues: Issues
    path: Path = ()
    state: str | None = None

    def at(self, *segments: Segment) -> Site:
        return Site(self.issues, self.path + segments, self.state)

    def state_named(self, name: str) -> Site:
        """The site of state ``name`` inside the States object at this site."""
        return Site(self.issues, (*self.path, name), name)

    def report(self, message: str) -> None:
        self.issues.add(self.path, self.state, message)
