"""Whether an execution may be redriven, in the words Step Functions uses.

RedriveExecution resumes an execution that FAILED, TIMED_OUT or was ABORTED from where
it stopped. AWS refuses it for an execution still running or one that succeeded, more
than 14 days after it stopped, more than a year after it started (its longest run), and
when its history could not take the `ExecutionRedriven` event and one more (25,000
events at most). An execution that never entered a state has nothing to resume.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from stepstream.asl.frames import ExecutionState

REDRIVABLE = "REDRIVABLE"
NOT_REDRIVABLE = "NOT_REDRIVABLE"

REDRIVABLE_PERIOD = timedelta(days=14)
MAX_EXECUTION_TIME = timedelta(days=365)
MAX_HISTORY_EVENTS = 25_000
# The redrive's own event and at least one more must still fit in the history.
MAX_REDRIVABLE_EVENTS = MAX_HISTORY_EVENTS - 2

REDRIVABLE_STATUSES = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})
NEVER_ENTERED = "Execution failed before entering a state and cannot be redriven"


class NotRedrivable(Exception):
    """ExecutionNotRedrivable: the reason is AWS's `redriveStatusReason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def refusal(
    status: str,
    *,
    start_date: datetime | None,
    stop_date: datetime | None,
    history_length: int,
    now: datetime,
) -> str | None:
    """Why an execution in this condition cannot be redriven now, or None if it can."""
    if status not in REDRIVABLE_STATUSES:
        return f"Execution is {status} and cannot be redriven"
    if stop_date is not None and now - stop_date > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded"
    if start_date is not None and now - start_date > MAX_EXECUTION_TIME:
        return "Execution has exceeded the max execution time"
    if history_length > MAX_REDRIVABLE_EVENTS:
        return "Execution history event limit exceeded"
    return None


def state_refusal(state: ExecutionState, now: datetime) -> str | None:
    """`refusal` for an execution's folded state, which also knows where it stopped."""
    reason = refusal(
        state.status,
        start_date=state.start_date,
        stop_date=state.stop_date,
        history_length=state.last_event_id,
        now=now,
    )
    if reason is None:
        root = state.retired.get("")
        if root is None or root.state is None:
            return NEVER_ENTERED
    return reason


def redrive_status(reason: str | None) -> dict[str, str]:
    """The `redriveStatus` and `redriveStatusReason` fields DescribeExecution shows."""
    if reason is None:
        return {"redriveStatus": REDRIVABLE}
    return {"redriveStatus": NOT_REDRIVABLE, "redriveStatusReason": reason}
