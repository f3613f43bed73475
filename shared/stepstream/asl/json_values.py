"""Small helpers for JSON values as Python holds them (dict, list, str, int, float, bool, None)."""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text, the way Step Functions writes it (and quotes it in causes).

    Anything that is not JSON (a datetime in a context object, say) is written as its str().
    """
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value; much faster than :func:`copy.deepcopy` for plain data."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def type_name(value: Any) -> str:
    """The JSON name of ``value``'s type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number (booleans are not, though Python says so)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def nesting_depth(value: Any, *, beyond: int | None = None) -> int:
    """How many arrays and objects deep ``value`` nests: 0 for a scalar, 1 for ``[]``.

    Walked a level at a time, without recursion, so any depth is measured. With
    ``beyond``, the walk stops at the first level deeper than that and returns it.
    """
    depth = 0
    level = [value] if type(value) in _CONTAINERS else []
    while level:
        depth += 1
        if beyond is not None and depth > beyond:
            return depth
        below: list[Any] = []
        for container in level:
            items = container.values() if type(container) is dict else container
            below.extend([item for item in items if type(item) in _CONTAINERS])
        level = below
    return depth


# What json.loads makes (subclasses, which it never makes, are not looked into).
_CONTAINERS = (dict, list)


def holds_text(value: Any, part: str) -> bool:
    """Whether a string in ``value``, or a key of one of its objects, holds ``part``."""
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if part in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


class NotPlainJson(ValueError):
    """JSON text Python's parser would take, but that holds a number JSON cannot carry."""


def finite_float(text: str) -> float:
    """A number literal as a float; refused when it overflows to infinity (``1e999``).

    For ``json.loads(parse_float=...)``, which calls it for literals with a fraction or
    an exponent only.
    """
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 40 else f"{text[:37]}..."
        raise NotPlainJson(f"the number {shown} is too large for a 64-bit float")
    return value


def refuse_constant(token: str) -> NoReturn:
    """For ``json.loads(parse_constant=...)``: NaN and Infinity are not JSON."""
    raise NotPlainJson(f"{token} is not a JSON number")
