"""What an execution did, per state, read from its history (Step Functions' event shape).

Events between a state's Entered and Exited event belong to that state; the ``scope`` of
an event (set inside a Parallel branch or a Map iteration) keeps branches apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_FAILURES = frozenset(
    {
        "TaskFailed",
        "TaskTimedOut",
        "LambdaFunctionFailed",
        "LambdaFunctionTimedOut",
        "ParallelStateFailed",
        "MapStateFailed",
    }
)


@dataclass
class Progress:
    """Per state: times entered, retries, how its last visit ended; and the path taken."""

    entered: dict[str, int] = field(default_factory=dict)
    retries: dict[str, int] = field(default_factory=dict)
    # "succeeded", "failed" (its last attempt failed), or "active" (entered, not left).
    outcome: dict[str, str] = field(default_factory=dict)
    # Transitions taken, as (from, to) state names.
    taken: set[tuple[str, str]] = field(default_factory=set)
    # Top-level states in the order entered.
    path: list[str] = field(default_factory=list)
    # The state whose failure was the last one (highlighted as "failed").
    failed_state: str | None = None

    @property
    def active(self) -> list[str]:
        return [name for name, outcome in self.outcome.items() if outcome == "active"]


def read_progress(events: list[dict[str, Any]]) -> Progress:
    """The progress in ``events`` (as ``get_execution_history`` returns them)."""
    progress = Progress()
    current: dict[str, str] = {}  # scope -> the state it is in
    previous: dict[str, str] = {}  # scope -> the state it left last
    scheduled: dict[str, int] = {}
    for event in events:
        kind = str(event.get("type", ""))
        scope = str(event.get("scope", ""))
        if kind.endswith("StateEntered"):
            name = str((event.get("stateEnteredEventDetails") or {}).get("name", "?"))
            progress.entered[name] = progress.entered.get(name, 0) + 1
            progress.outcome[name] = "active"
            if scope in previous:
                progress.taken.add((previous.pop(scope), name))
            current[scope] = name
            if not scope:
                progress.path.append(name)
        elif kind.endswith("StateExited"):
            name = str((event.get("stateExitedEventDetails") or {}).get("name", "?"))
            if progress.outcome.get(name) == "active":
                progress.outcome[name] = "succeeded"
            current.pop(scope, None)
            previous[scope] = name
        elif kind == "TaskScheduled" and scope in current:
            name = current[scope]
            scheduled[name] = scheduled.get(name, 0) + 1
        elif kind in _FAILURES and scope in current:
            name = current[scope]
            progress.outcome[name] = "failed"
            progress.failed_state = name
        elif kind == "ExecutionFailed" and "" in current:
            # Ended in a Fail state (or a failure nothing caught): the state it stopped in
            # is shown failed; the failure that led there stays the highlighted one.
            progress.outcome[current[""]] = "failed"
            progress.failed_state = progress.failed_state or current[""]
        elif kind.endswith("Succeeded") and scope in current:
            progress.outcome[current[scope]] = "active"
    if progress.failed_state and progress.outcome.get(progress.failed_state) != "failed":
        progress.failed_state = None  # retried since, and got through
    for name, count in scheduled.items():
        progress.retries[name] = max(0, count - progress.entered.get(name, 0))
    return progress
