"""How a ``[?(...)]`` filter judges one candidate, with Jayway JsonPath's comparison rules.

A comparison whose path operand finds nothing is false, whatever the operator (so
``@.x != 1`` skips items without ``x``); a bare path tests presence, not truthiness;
``==`` treats a number and a numeric string as equal, ``<`` and friends compare only
two numbers or two strings; ``=~`` must match the whole string.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from stepstream.asl.jsonpath_ast import (
    And,
    Comparison,
    Condition,
    Exists,
    Not,
    Operand,
    Or,
    Path,
    Regex,
)

# Resolves a path operand against (current item, root document) to (found, value).
Resolver = Callable[[Path, Any, Any], tuple[bool, Any]]

_MISSING = object()
_NUMERIC_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


def matches(condition: Condition, item: Any, root: Any, resolve: Resolver) -> bool:
    """Whether ``item`` passes ``condition``."""
    if isinstance(condition, Comparison):
        return _compare(condition, item, root, resolve)
    if isinstance(condition, Exists):
        return resolve(condition.path, item, root)[0]
    if isinstance(condition, Not):
        return not matches(condition.condition, item, root, resolve)
    if isinstance(condition, And):
        return matches(condition.left, item, root, resolve) and matches(
            condition.right, item, root, resolve
        )
    if isinstance(condition, Or):
        return matches(condition.left, item, root, resolve) or matches(
            condition.right, item, root, resolve
        )
    return bool(condition.value)


def _value(operand: Operand, item: Any, root: Any, resolve: Resolver) -> Any:
    if isinstance(operand, Path):
        found, value = resolve(operand, item, root)
        return value if found else _MISSING
    if isinstance(operand, Regex):
        return operand
    return operand.value


def _compare(comparison: Comparison, item: Any, root: Any, resolve: Resolver) -> bool:
    left = _value(comparison.left, item, root, resolve)
    right = _value(comparison.right, item, root, resolve)
    if left is _MISSING or right is _MISSING:
        return False
    return _OPERATORS[comparison.operator](left, right)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | int | None:
    if _is_number(value):
        return value  # type: ignore[no-any-return]
    if isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def loose_equal(left: Any, right: Any) -> bool:
    """Jayway's ``==``: JSON equality, except that ``1 == '1'`` holds."""
    if _is_number(left) or _is_number(right):
        a, b = _as_number(left), _as_number(right)
        return a is not None and b is not None and a == b
    return strict_equal(left, right)


def strict_equal(left: Any, right: Any) -> bool:
    """JSON equality: same kind of value and same content (``1 == 1.0``, ``1 != true``)."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if _is_number(left) and _is_number(right):
        return bool(left == right)
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(
            strict_equal(v, right[k]) for k, v in left.items()
        )
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(strict_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        if _is_number(left) and _is_number(right):
            return test(left, right)
        if isinstance(left, str) and isinstance(right, str):
            return test(left, right)
        return False

    return compare


def _regex(left: Any, right: Any) -> bool:
    return (
        isinstance(left, str) and isinstance(right, Regex) and bool(right.pattern.fullmatch(left))
    )


def _member(value: Any, collection: Any) -> bool:
    return isinstance(collection, list) and any(loose_equal(value, item) for item in collection)


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str):
        return isinstance(right, str) and right in left
    return _member(right, left)


def _subset(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list) and isinstance(right, list) and all(_member(v, right) for v in left)
    )


def _any_of(left: Any, right: Any) -> bool:
    return (
        isinstance(left, list) and isinstance(right, list) and any(_member(v, right) for v in left)
    )


def _none_of(left: Any, right: Any) -> bool:
    return isinstance(left, list) and isinstance(right, list) and not _any_of(left, right)


def _size(left: Any, right: Any) -> bool:
    return isinstance(left, list | str) and _is_number(right) and len(left) == right


def _empty(left: Any, right: Any) -> bool:
    return isinstance(left, list | str) and isinstance(right, bool) and (len(left) == 0) == right


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": loose_equal,
    "!=": lambda left, right: not loose_equal(left, right),
    "===": strict_equal,
    "!==": lambda left, right: not strict_equal(left, right),
    "<": _ordered(lambda left, right: left < right),
    "<=": _ordered(lambda left, right: left <= right),
    ">": _ordered(lambda left, right: left > right),
    ">=": _ordered(lambda left, right: left >= right),
    "=~": _regex,
    "in": _member,
    "nin": lambda left, right: isinstance(right, list) and not _member(left, right),
    "contains": _contains,
    "subsetof": _subset,
    "anyof": _any_of,
    "noneof": _none_of,
    "size": _size,
    "empty": _empty,
}
