"""Invariant 6: every retry obeys the definition's Retry, read from the history alone.

For each failure the engine chose to retry, the recorded back-off must lie within what
the matching retrier allows for that attempt (IntervalSeconds x BackoffRate^attempt,
capped by MaxDelaySeconds; with JitterStrategy FULL anywhere from 0 to that), the
attempt must be within MaxAttempts, the next try must not start before the back-off
ended (by the history's own timestamps), and the back-off must not be shorter than a
Retry-After the service passed on (or than MaxDelaySeconds, when the hint is longer).
When a hint was recorded, the draw is in ``drawnDelaySeconds`` and the wait chosen in
``retryDelaySeconds``; without one, ``retryDelaySeconds`` is the draw itself. The
retrier is read from the definition's JSON here, not from the engine's parsed model, so
the check is a second opinion rather than the same code asked twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from apps.chaos.audit.outcomes import OrderView, timestamp
from apps.chaos.audit.verdict import InvariantResult
from apps.chaos.records import Records
from stepstream.asl import errors

# The engine rounds a drawn back-off to the millisecond; timestamps are as precise.
TOLERANCE = 0.002


def states_by_name(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of the definition, nested ones (Parallel branches, Map) included."""
    found: dict[str, dict[str, Any]] = {}

    def walk(machine: dict[str, Any]) -> None:
        for name, state in machine.get("States", {}).items():
            found.setdefault(name, state)
            for branch in state.get("Branches", []):
                walk(branch)
            for key in ("Iterator", "ItemProcessor"):
                if key in state:
                    walk(state[key])

    walk(definition)
    return found


def bound(retrier: dict[str, Any], attempt: int) -> float:
    """The longest back-off ``retrier`` allows before retry number ``attempt + 1``."""
    delay = float(retrier.get("IntervalSeconds", 1)) * float(retrier.get("BackoffRate", 2.0)) ** (
        attempt
    )
    cap = retrier.get("MaxDelaySeconds")
    return delay if cap is None else min(delay, float(cap))


def _retried(events: list[dict[str, Any]]) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(index, state name, event) of each failure the engine chose to retry."""
    current: dict[str, str] = {}
    for index, event in enumerate(events):
        scope = str(event.get("scope", ""))
        details = event.get("details") or {}
        if event["type"].endswith("StateEntered"):
            current[scope] = str(details.get("name"))
        elif details.get("retryDelaySeconds") is not None:
            yield index, current.get(scope, "?"), event


def retries_obey_definition(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "retries-obey-definition",
        "each back-off within the Retry bounds and never shorter than a Retry-After",
    )
    states = states_by_name(records.definition)
    for execution in records.executions:
        result.checked += 1
        _check(result, execution.order_id, execution.events, states)
    return result


def _check(
    result: InvariantResult,
    order_id: str,
    events: list[dict[str, Any]],
    states: dict[str, dict[str, Any]],
) -> None:
    attempts: dict[tuple[str, int], int] = {}
    entries: dict[str, int] = {}
    for index, name, event in _retried(events):
        details = event["details"]
        scope = str(event.get("scope", ""))
        # A state entered afresh (after a review's retry, say) starts its counts again.
        entry = _last_entry(events, index, scope)
        if entries.get(scope) != entry:
            entries[scope] = entry
            attempts = {k: v for k, v in attempts.items() if k[0] != scope}
        retriers = states.get(name, {}).get("Retry", [])
        error = str(details.get("error"))
        matched = next(
            (i for i, r in enumerate(retriers) if errors.matches(r["ErrorEquals"], error)), None
        )
        delay = float(details["retryDelaySeconds"])
        drawn = float(details.get("drawnDelaySeconds") or delay)
        where = f"{name} event {event.get('id')}"
        if matched is None:
            result.violate([order_id], f"{where}: {error} retried though no retrier matches it")
            continue
        retrier = retriers[matched]
        attempt = attempts.get((scope, matched), 0)
        attempts[(scope, matched)] = attempt + 1
        if attempt >= int(retrier.get("MaxAttempts", 3)):
            result.violate(
                [order_id],
                f"{where}: retry {attempt + 1} beyond MaxAttempts {retrier['MaxAttempts']}",
            )
        longest = bound(retrier, attempt)
        full = retrier.get("JitterStrategy", "NONE") == "FULL"
        low = 0.0 if full else longest
        if not low - TOLERANCE <= drawn <= longest + TOLERANCE:
            result.violate(
                [order_id],
                f"{where}: back-off {drawn:g} s for attempt {attempt + 1} outside "
                f"[{low:g}, {longest:g}] s",
            )
        hint = details.get("retryAfterSeconds")
        if hint is not None:
            cap = retrier.get("MaxDelaySeconds")
            floor = float(hint) if cap is None else min(float(hint), float(cap))
            if delay + TOLERANCE < floor:
                result.violate(
                    [order_id], f"{where}: waited {delay:g} s though Retry-After said {hint} s"
                )
        waited = _next_try_after(events, index, scope)
        if waited is not None and waited + TOLERANCE < delay:
            result.violate(
                [order_id], f"{where}: tried again after {waited:.3f} s, back-off was {delay:g} s"
            )


def _last_entry(events: list[dict[str, Any]], index: int, scope: str) -> int:
    for i in range(index, -1, -1):
        if events[i]["type"].endswith("StateEntered") and str(events[i].get("scope", "")) == scope:
            return i
    return -1


def _next_try_after(events: list[dict[str, Any]], index: int, scope: str) -> float | None:
    failed_at = timestamp(events[index])
    for event in events[index + 1 :]:
        if str(event.get("scope", "")) == scope and event["type"].endswith("Scheduled"):
            return (timestamp(event) - failed_at).total_seconds()
    return None
