"""The ``States.*`` intrinsic functions themselves, with the argument rules Step Functions applies.

Each function takes its already evaluated arguments and raises :class:`InvalidArguments`
naming what is wrong; :mod:`stepstream.asl.intrinsics` turns that into the States error.
Where Step Functions is observed to differ from its own documentation, it is followed:
fractional arguments are truncated (not rounded) by MathRandom, ArrayRange, ArrayPartition
and ArrayGetItem, while MathAdd rounds half up; StringSplit drops empty pieces.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepstream.asl.intrinsic_arguments import (
    INT32_MAX,
    MAX_RANGE_ITEMS,
    InvalidArguments,
    array_at,
    int32,
    object_at,
    rounded_at,
    short_text,
    shown,
    string_at,
    truncated_at,
    within_payload_limit,
)
from stepstream.asl.java_random import JavaRandom
from stepstream.asl.json_values import compact_json, is_number
from stepstream.asl.ports import Entropy

HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


Implementation = Callable[[list[Any], Entropy], Any]


@dataclass(frozen=True, slots=True)
class Signature:
    minimum: int
    maximum: int | None  # None: any number of arguments
    implementation: Implementation


# -- generic -----------------------------------------------------------------------------


def format_(args: list[Any], entropy: Entropy) -> str:
    """States.Format; a literal template arrives with its escapes still in place."""
    pieces = template_pieces(string_at(args, 0))
    holes = pieces.count(None)
    if holes != len(args) - 1:
        raise InvalidArguments(
            f"number of arguments do not match the occurrences of {{}}: the template has "
            f"{holes} and {len(args) - 1} values were given"
        )
    values = iter(args[1:])
    return "".join(_format_value(next(values)) if piece is None else piece for piece in pieces)


@functools.lru_cache(maxsize=1024)
def template_pieces(template: str) -> tuple[str | None, ...]:
    """A Format template as literal text pieces and ``None`` for each ``{}``.

    A backslash escapes ``'``, ``{``, ``}`` and itself; any other backslash is kept.
    """
    pieces: list[str | None] = []
    text: list[str] = []
    position = 0
    while position < len(template):
        char = template[position]
        following = template[position + 1 : position + 2]
        if char == "\\" and following in ("'", "{", "}", "\\"):
            text.append(following)
            position += 2
        elif char == "{" and following == "}":
            pieces += ["".join(text), None]
            text = []
            position += 2
        elif char in "{}":
            raise InvalidArguments(
                f"matching '}}' not found for '{{' in the template {template!r}"
                if char == "{"
                else f"unmatched '}}' in the template {template!r}"
            )
        else:
            text.append(char)
            position += 1
    pieces.append("".join(text))
    return tuple(piece for piece in pieces if piece != "")


def _format_value(value: Any) -> str:
    # Values are written the way Step Functions' Java runtime prints them: strings bare,
    # objects as {key=value, ...} and arrays as [a, b].
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}={_format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_format_value(item) for item in value) + "]"
    if value.__class__ is int:
        return str(value)  # what JSON writes too, without going through it
    return compact_json(value)


# -- arrays ------------------------------------------------------------------------------


def array(args: list[Any], entropy: Entropy) -> list[Any]:
    return list(args)


def array_partition(args: list[Any], entropy: Entropy) -> list[list[Any]]:
    items = within_payload_limit(array_at(args, 0))
    size = truncated_at(args, 1)
    if size <= 0:
        raise InvalidArguments(f"the chunk size must be a positive integer, got {shown(args[1])}")
    return [items[start : start + size] for start in range(0, len(items), size)]


def array_contains(args: list[Any], entropy: Entropy) -> bool:
    items = within_payload_limit(array_at(args, 0))
    wanted = _membership_text(args[1])
    return any(_membership_text(item) == wanted for item in items)


def _membership_text(value: Any) -> str:
    # Step Functions compares values by their text: "true" matches true and "5" matches 5,
    # while objects are compared as written, so key order matters.
    if isinstance(value, str):
        return value
    return compact_json(value)


def array_range(args: list[Any], entropy: Entropy) -> list[int]:
    first, last, step = (truncated_at(args, position) for position in range(3))
    if step == 0:
        raise InvalidArguments("the step (third argument) must not be zero")
    count = max(0, (last - first) // step + 1)
    if count > MAX_RANGE_ITEMS:
        raise InvalidArguments(
            f"the range would hold {count} items, more than the limit of {MAX_RANGE_ITEMS}"
        )
    return [first + step * offset for offset in range(count)]


def array_get_item(args: list[Any], entropy: Entropy) -> Any:
    items = array_at(args, 0)
    index = truncated_at(args, 1)
    if index < 0:
        raise InvalidArguments(f"the index must not be negative, got {index}")
    if index < len(items):
        return items[index]
    if not items:
        return None  # Step Functions answers null for any index into an empty array.
    raise InvalidArguments(f"the index {index} is out of range for an array of {len(items)} items")


def array_length(args: list[Any], entropy: Entropy) -> int:
    return len(array_at(args, 0))


def array_unique(args: list[Any], entropy: Entropy) -> list[Any]:
    seen: set[Any] = set()
    unique: list[Any] = []
    for item in array_at(args, 0):
        key = _canonical(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _canonical(value: Any) -> Any:
    """A hashable stand-in equal for equal JSON values (1 == 1.0, key order ignored)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if is_number(value):
        return ("number", value)
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(_canonical(item) for item in value))
    return ("object", frozenset((key, _canonical(item)) for key, item in value.items()))


# -- encoding and hashing ----------------------------------------------------------------


def base64_encode(args: list[Any], entropy: Entropy) -> str:
    text = short_text(string_at(args, 0), 0)
    return base64.b64encode(text.encode()).decode("ascii")


_BASE64_DIGITS = {
    char: value
    for value, char in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_BASE64_DIGITS |= {"-": 62, "_": 63}


def base64_decode(args: list[Any], entropy: Entropy) -> str:
    # Step Functions decodes leniently, like a MIME decoder: characters outside the
    # alphabet are skipped, decoding stops at padding, and missing padding is tolerated.
    text = short_text(string_at(args, 0), 0)
    digits = []
    for char in text:
        if char == "=":
            break
        if char in _BASE64_DIGITS:
            digits.append(_BASE64_DIGITS[char])
    if len(digits) % 4 == 1:
        digits.pop()  # six bits cannot make a byte
    bits = 0
    for digit in digits:
        bits = (bits << 6) | digit
    whole_bytes = len(digits) * 6 // 8
    bits >>= len(digits) * 6 - whole_bytes * 8
    return bits.to_bytes(whole_bytes, "big").decode("utf-8", errors="replace")


def hash_(args: list[Any], entropy: Entropy) -> str:
    algorithm = string_at(args, 1)
    if algorithm not in HASH_ALGORITHMS:
        raise InvalidArguments(
            f"the algorithm must be one of {', '.join(HASH_ALGORITHMS)}, got {shown(algorithm)}"
        )
    data = args[0] if isinstance(args[0], str) else compact_json(args[0])
    digest = hashlib.new(HASH_ALGORITHMS[algorithm], short_text(data, 0).encode())
    return digest.hexdigest()


# -- JSON --------------------------------------------------------------------------------


def json_merge(args: list[Any], entropy: Entropy) -> dict[str, Any]:
    first, second = object_at(args, 0), object_at(args, 1)
    if _truthy(args[2]):
        raise InvalidArguments(
            "only shallow merging is supported: the third argument must be false"
        )
    return {**first, **second}


def _truthy(value: Any) -> bool:
    # How Step Functions reads the deep-merge flag: only a true value means deep.
    if isinstance(value, str):
        return value.strip() == "true"
    return bool(value) if isinstance(value, bool | int | float) else False


def json_to_string(args: list[Any], entropy: Entropy) -> str:
    return compact_json(args[0])


def string_to_json(args: list[Any], entropy: Entropy) -> Any:
    text = string_at(args, 0)
    if not text.strip():
        return None  # Step Functions parses a blank string to null.
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise InvalidArguments(f"the text is not valid JSON: {error}") from error


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# -- maths and identifiers ---------------------------------------------------------------


def math_add(args: list[Any], entropy: Entropy) -> int:
    first = int32(rounded_at(args, 0), "the first argument")
    second = int32(rounded_at(args, 1), "the second argument")
    return int32(first + second, "the sum")


def math_random(args: list[Any], entropy: Entropy) -> int:
    start = int32(truncated_at(args, 0), "the start")
    end = int32(truncated_at(args, 1), "the end")
    if start >= end:
        raise InvalidArguments(f"the start ({start}) must be less than the end ({end})")
    span = end - start
    if span > INT32_MAX:
        raise InvalidArguments(f"the range from {start} to {end} is wider than {INT32_MAX}")
    if len(args) == 3:
        return start + JavaRandom(truncated_at(args, 2)).next_int(span)
    return start + min(int(entropy.random() * span), span - 1)


def uuid(args: list[Any], entropy: Entropy) -> str:
    return entropy.uuid()


def string_split(args: list[Any], entropy: Entropy) -> list[str]:
    text, delimiters = string_at(args, 0), string_at(args, 1)
    if not delimiters:
        return [text] if text else []
    pieces = [text]
    for delimiter in delimiters:
        pieces = [part for piece in pieces for part in piece.split(delimiter)]
    return [piece for piece in pieces if piece]


FUNCTIONS: dict[str, Signature] = {
    "States.Format": Signature(1, None, format_),
    "States.Array": Signature(0, None, array),
    "States.ArrayPartition": Signature(2, 2, array_partition),
    "States.ArrayContains": Signature(2, 2, array_contains),
    "States.ArrayRange": Signature(3, 3, array_range),
    "States.ArrayGetItem": Signature(2, 2, array_get_item),
    "States.ArrayLength": Signature(1, 1, array_length),
    "States.ArrayUnique": Signature(1, 1, array_unique),
    "States.Base64Encode": Signature(1, 1, base64_encode),
    "States.Base64Decode": Signature(1, 1, base64_decode),
    "States.Hash": Signature(2, 2, hash_),
    "States.JsonMerge": Signature(3, 3, json_merge),
    "States.JsonToString": Signature(1, 1, json_to_string),
    "States.StringToJson": Signature(1, 1, string_to_json),
    "States.MathRandom": Signature(2, 3, math_random),
    "States.MathAdd": Signature(2, 2, math_add),
    "States.StringSplit": Signature(2, 2, string_split),
    "States.UUID": Signature(0, 0, uuid),
}
