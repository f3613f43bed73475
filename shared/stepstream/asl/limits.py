"""How much data one state may hand on: the Step Functions payload quota.

AWS bounds an execution's input, each state's output and each task's parameters to
256 KiB of UTF-8 JSON. Keeping to it here keeps every message that carries such a value
(commands, history events) well under what a Kafka record may hold.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from stepstream.asl import errors
from stepstream.asl.errors import StatesError

MAX_PAYLOAD_BYTES = 256 * 1024


def payload_size(value: Any) -> int:
    """The bytes of ``value`` as compact UTF-8 JSON."""
    return len(to_json(value))


def check_state_data(state_name: str, value: Any) -> None:
    """Raise States.DataLimitExceeded if ``value`` is more than a state may hand on."""
    if payload_size(value) > MAX_PAYLOAD_BYTES:
        raise StatesError(
            errors.DATA_LIMIT_EXCEEDED,
            f"The state/task '{state_name}' returned a result with a size exceeding the "
            "maximum number of bytes service limit.",
        )


def execution_input_problem(value: Any) -> str | None:
    """Why ``value`` cannot start an execution (too large), or None if it can."""
    size = payload_size(value)
    if size <= MAX_PAYLOAD_BYTES:
        return None
    return (
        f"the execution input is {size} bytes, over the limit of {MAX_PAYLOAD_BYTES} bytes "
        "(256 KiB of UTF-8 JSON)"
    )
