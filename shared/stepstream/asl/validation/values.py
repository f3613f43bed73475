"""Checks of single JSON values: types, ranges, timestamps, ARNs, variable names."""

from __future__ import annotations

import math
import re
from typing import Any

from stepstream.asl.validation.site import Site, described, shown

MAX_SECONDS = 99_999_999
MAX_RETRY_DELAY = 31_622_400  # one leap year, AWS's cap on MaxDelaySeconds
MAX_NAME_LENGTH = 80

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def is_jsonata(value: Any) -> bool:
    """Whether a string is a whole JSONata expression, ``{% ... %}``."""
    return (
        isinstance(value, str)
        and len(value) >= 4
        and value.startswith("{%")
        and value.endswith("%}")
    )


def expect_string(site: Site, value: Any, *, non_empty: bool = True) -> bool:
    if not isinstance(value, str):
        site.report(f"must be a string, got {described(value)}")
        return False
    if non_empty and not value:
        site.report("must not be an empty string")
        return False
    return True


def expect_int(site: Site, value: Any, low: int, high: int) -> bool:
    if not is_int(value):
        site.report(f"must be an integer from {low} to {high}, got {described(value)}")
        return False
    if not low <= value <= high:
        site.report(f"must be an integer from {low} to {high}, got {value}")
        return False
    return True


def expect_number(site: Site, value: Any, low: float, high: float | None = None) -> bool:
    bounds = f"at least {low}" if high is None else f"from {low} to {high}"
    if not is_number(value):
        site.report(f"must be a number {bounds}, got {described(value)}")
        return False
    if value < low or (high is not None and value > high):
        site.report(f"must be a number {bounds}, got {value}")
        return False
    return True


def expect_bool(site: Site, value: Any) -> bool:
    if not isinstance(value, bool):
        site.report(f"must be true or false, got {described(value)}")
        return False
    return True


def expect_object(site: Site, value: Any) -> bool:
    if not isinstance(value, dict):
        site.report(f"must be a JSON object, got {described(value)}")
        return False
    return True


def expect_array(site: Site, value: Any, *, non_empty: bool = False) -> bool:
    if not isinstance(value, list):
        site.report(f"must be an array, got {described(value)}")
        return False
    if non_empty and not value:
        site.report("must be a non-empty array")
        return False
    return True


def expect_one_of(site: Site, value: Any, choices: tuple[str, ...]) -> bool:
    if not isinstance(value, str) or value not in choices:
        wanted = ", ".join(repr(choice) for choice in choices)
        site.report(f"must be one of {wanted}, got {shown(value)}")
        return False
    return True


# RFC 3339 as Step Functions takes it: an uppercase T between date and time, and an
# uppercase Z or a numeric offset for the zone.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))\Z"
)


def timestamp_error(text: str) -> str | None:
    """Why ``text`` is not an RFC 3339 timestamp, or None when it is one."""
    match = _TIMESTAMP.match(text)
    example = "like '2026-03-14T01:59:00Z'"
    if match is None:
        return f"must be an RFC 3339 timestamp {example}, got {shown(text)}"
    month, day, hour, minute, second = (int(match.group(i)) for i in range(2, 7))
    in_range = 1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59
    zone_ok = match.group(9) is None or (int(match.group(9)) <= 23 and int(match.group(10)) <= 59)
    if not (in_range and second <= 60 and zone_ok):
        return f"is not a real date and time: {shown(text)}"
    return None


# arn:partition:service:region:account:resource; region and account may be empty, as in
# the service integrations' "arn:aws:states:::lambda:invoke".
_ARN = re.compile(r"arn:[a-z][a-z0-9-]*:[A-Za-z0-9-]+:[^:]*:[^:]*:.+\Z", re.DOTALL)


def arn_error(text: str) -> str | None:
    """Why ``text`` is not an ARN, or None when it is one."""
    if _ARN.match(text):
        return None
    return (
        "must be an ARN like 'arn:aws:states:::lambda:invoke' "
        f"(arn:partition:service:region:account:resource), got {shown(text)}"
    )


def variable_name_error(name: str) -> str | None:
    """Why ``name`` cannot name a workflow variable, or None when it can."""
    if not name.isidentifier():
        return (
            f"variable name {shown(name)} must start with a letter or '_' and hold only "
            "letters, digits and '_'"
        )
    if len(name) > MAX_NAME_LENGTH:
        return f"variable name is {len(name)} characters long; at most {MAX_NAME_LENGTH}"
    if name == "states":
        return "variable name 'states' is reserved for the $states variable"
    return None
