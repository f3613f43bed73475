"""Runtime errors as the Amazon States Language names them.

An error is a name and a cause. Retry and Catch match on the name alone, so every
failure the engine raises carries one of the ``States.*`` names below, and every
failure a task reports carries the name its worker gave it (for a Python function,
the exception's class name, as Lambda does).
"""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
PERMISSIONS = "States.Permissions"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"

# Errors in the evaluation of a state's own fields: AWS says where they happened.
LOCATED = frozenset({RUNTIME, QUERY_EVALUATION_ERROR})

# AWS documents these as terminal: no retrier may catch them, not even States.ALL.
NOT_RETRIABLE = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """A named ASL error, raised inside the engine and routed by Retry and Catch."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def as_output(self) -> dict[str, str]:
        """The error output a Catch hands to its Next state."""
        return {"Error": self.error, "Cause": self.cause}


def located(error: str, cause: str, state_name: str, entered_event: int) -> str:
    """The cause of an error raised while a state ran, as AWS reports it."""
    if error not in LOCATED:
        return cause
    return (
        f"An error occurred while executing the state '{state_name}' "
        f"(entered at the event id #{entered_event}). {cause}"
    )


def matches(error_equals: tuple[str, ...] | list[str], error: str) -> bool:
    """Whether an ErrorEquals list catches ``error``.

    States.ALL matches every error except the terminal ones; States.TaskFailed matches
    every error except States.Timeout and the terminal ones.
    """
    if error in error_equals:
        return True
    if error in NOT_RETRIABLE:
        return False
    if ALL in error_equals:
        return True
    return TASK_FAILED in error_equals and error != TIMEOUT
