"""One state: its type, query language, allowed fields, and the rules tying fields together."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation.context import Run
from stepstream.asl.validation.field_checks import FIELD_CHECKS
from stepstream.asl.validation.fields import FLOW_TYPES, STATE_TYPES, allowed, why_not_allowed
from stepstream.asl.validation.map_state import check_distributed_fields
from stepstream.asl.validation.site import Site, described, shown
from stepstream.asl.validation.values import (
    JSONATA,
    JSONPATH,
    QUERY_LANGUAGES,
    expect_one_of,
    is_int,
)

# Fields that say the same thing two ways: a literal, or a path read at run time.
_EXCLUSIVE_PAIRS = (
    ("TimeoutSeconds", "TimeoutSecondsPath"),
    ("HeartbeatSeconds", "HeartbeatSecondsPath"),
    ("Error", "ErrorPath"),
    ("Cause", "CausePath"),
    ("MaxConcurrency", "MaxConcurrencyPath"),
    ("ToleratedFailureCount", "ToleratedFailureCountPath"),
    ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath"),
    ("ItemSelector", "Parameters"),
    ("ItemProcessor", "Iterator"),
)
_WAIT_FIELDS = ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
_REQUIRED = {"Task": "Resource", "Choice": "Choices", "Parallel": "Branches"}
_TYPES_TEXT = ", ".join(STATE_TYPES)


def check_state(run: Run, site: Site, body: Any, scope_language: str) -> None:
    """Check one state, its fields and everything nested in it."""
    if not isinstance(body, dict):
        site.report(f"a state must be a JSON object, got {described(body)}")
        return
    language = _state_language(site, body, scope_language)
    if "Type" not in body:
        site.report(f"required field 'Type' is missing; it must be one of {_TYPES_TEXT}")
        return
    state_type = body["Type"]
    if not isinstance(state_type, str) or state_type not in STATE_TYPES:
        site.at("Type").report(
            f"unknown state type {shown(state_type)}; expected one of {_TYPES_TEXT}"
        )
        return
    permitted = allowed(state_type, language)
    present: dict[str, Any] = {}
    for key, value in body.items():
        if key in permitted:
            present[key] = value
        else:
            site.at(key).report(why_not_allowed(key, state_type, language))
    for key, value in present.items():
        check = FIELD_CHECKS.get(key)
        if check is not None:
            check(run, site.at(key), value, language)
    _check_field_rules(site, state_type, present)


def _state_language(site: Site, body: dict[str, Any], scope_language: str) -> str:
    if "QueryLanguage" not in body:
        return scope_language
    here = site.at("QueryLanguage")
    value = body["QueryLanguage"]
    if not expect_one_of(here, value, QUERY_LANGUAGES):
        return scope_language
    if value == JSONPATH and scope_language == JSONATA:
        here.report(
            "a JSONPath state cannot sit in a JSONata scope: once the machine (or branch) uses"
            " JSONata, every state in it must too"
        )
    return str(value)


def _check_field_rules(site: Site, state_type: str, present: dict[str, Any]) -> None:
    if state_type in FLOW_TYPES:
        _check_transition(site, state_type, present)
    required = _REQUIRED.get(state_type)
    if required is not None and required not in present:
        site.report(f"required field '{required}' is missing in a {state_type} state")
    for first, second in _EXCLUSIVE_PAIRS:
        if first in present and second in present:
            site.at(second).report(f"cannot be used together with {first}; use one of them")
    if state_type == "Wait":
        _check_wait_has_one(site, present)
    elif state_type == "Task":
        _check_heartbeat_within_timeout(site, present)
    elif state_type == "Map":
        if "ItemProcessor" not in present and "Iterator" not in present:
            site.report("required field 'ItemProcessor' is missing in a Map state")
        check_distributed_fields(site, present)


def _check_transition(site: Site, state_type: str, present: dict[str, Any]) -> None:
    ends = present.get("End") is True
    if "Next" in present and ends:
        site.report("the state has both Next and End: true; it must either move on or end")
    elif "Next" not in present and not ends:
        site.report(f"a {state_type} state needs Next (the state to go to) or End: true")


def _check_wait_has_one(site: Site, present: dict[str, Any]) -> None:
    given = [name for name in _WAIT_FIELDS if name in present]
    if not given:
        site.report(f"a Wait state needs exactly one of {', '.join(_WAIT_FIELDS)}")
    for extra in given[1:]:
        site.at(extra).report(
            f"cannot be used together with {given[0]}; a Wait state takes exactly one of"
            f" {', '.join(_WAIT_FIELDS)}"
        )


def _check_heartbeat_within_timeout(site: Site, present: dict[str, Any]) -> None:
    heartbeat: Any = present.get("HeartbeatSeconds")
    timeout: Any = present.get("TimeoutSeconds")
    if is_int(heartbeat) and is_int(timeout) and heartbeat >= timeout:
        site.at("HeartbeatSeconds").report(
            f"must be less than TimeoutSeconds ({timeout}), got {heartbeat}"
        )
