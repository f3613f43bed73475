"""Argument checks shared by the intrinsic functions, and the limits Step Functions sets."""

from __future__ import annotations

import math
from typing import Any

from stepstream.asl.json_values import compact_json, is_number, type_name

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_RANGE_ITEMS = 1000
MAX_TEXT_LENGTH = 10_000
MAX_PAYLOAD_BYTES = 256 * 1024


class InvalidArguments(ValueError):
    """An intrinsic got arguments it cannot work with; the message says which and why."""


_ORDINALS = ("first", "second", "third", "fourth")


def _ordinal(position: int) -> str:
    return _ORDINALS[position] if position < len(_ORDINALS) else f"argument {position + 1}"


def shown(value: Any) -> str:
    """``value`` as JSON, cut short for an error message."""
    text = compact_json(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _wrong(position: int, wanted: str, value: Any) -> InvalidArguments:
    got = f"{type_name(value)} {shown(value)}"
    return InvalidArguments(f"the {_ordinal(position)} argument must be {wanted}, got {got}")


def array_at(args: list[Any], position: int) -> list[Any]:
    value = args[position]
    if not isinstance(value, list):
        raise _wrong(position, "an array", value)
    return value


def string_at(args: list[Any], position: int) -> str:
    value = args[position]
    if not isinstance(value, str):
        raise _wrong(position, "a string", value)
    return value


def object_at(args: list[Any], position: int) -> dict[str, Any]:
    value = args[position]
    if not isinstance(value, dict):
        raise _wrong(position, "a JSON object", value)
    return value


def number_at(args: list[Any], position: int) -> int | float:
    value = args[position]
    if not is_number(value) or not math.isfinite(value):
        raise _wrong(position, "a number", value)
    return value  # type: ignore[no-any-return]


def truncated_at(args: list[Any], position: int) -> int:
    return int(number_at(args, position))


def rounded_at(args: list[Any], position: int) -> int:
    value = args[position]
    if value.__class__ is int:
        return value
    # Java's Math.round: halves go up, so -1.5 becomes -1.
    return math.floor(number_at(args, position) + 0.5)


def int32(value: int, what: str) -> int:
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidArguments(f"{what} {value} is outside the range {INT32_MIN} to {INT32_MAX}")
    return value


def short_text(text: str, position: int) -> str:
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidArguments(
            f"the {_ordinal(position)} argument has {len(text)} characters, "
            f"more than the limit of {MAX_TEXT_LENGTH}"
        )
    return text


def within_payload_limit(array: list[Any]) -> list[Any]:
    size = len(compact_json(array).encode())
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidArguments(f"the array is {size} bytes, more than the payload limit of 256 KiB")
    return array
