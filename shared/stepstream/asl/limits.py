"""How much data one state may hand on: the Step Functions payload quota.

AWS bounds an execution's input, each state's output and each task's parameters to
256 KiB of UTF-8 JSON. Keeping to it here keeps every message that carries such a value
(commands, history events) well under what a Kafka record may hold.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticSerializationError, to_json

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.json_values import nesting_depth

MAX_PAYLOAD_BYTES = 256 * 1024
# How deep a value from outside (an execution's input, a task's output) may nest. Messages
# are read up to 201 levels (stepstream.messaging.envelope); a value carried in a history
# event or a command sits a few levels down in its message, and the rest is room for what
# a state wraps around it.
MAX_NESTING = 190


def payload_size(value: Any) -> int:
    """The bytes of ``value`` as compact UTF-8 JSON."""
    return len(to_json(value))


def check_state_data(state_name: str, value: Any) -> None:
    """Raise States.DataLimitExceeded if ``value`` is more than a state may hand on."""
    if payload_size(value) > MAX_PAYLOAD_BYTES:
        raise _exceeded(state_name)


def _exceeded(state_name: str) -> StatesError:
    return StatesError(
        errors.DATA_LIMIT_EXCEEDED,
        f"The state/task '{state_name}' returned a result with a size exceeding the "
        "maximum number of bytes service limit.",
    )


class SizeBounds:
    """Upper bounds on the JSON size of the values one decision hands from state to state.

    Serializing every state's whole output to measure it cost a third of a simple
    transition, though most outputs are the input with a small result added. A state's
    output is bounded instead from its input's bound and its result's size; only when the
    bound passes the limit is the output serialized and measured exactly, so the 256 KiB
    rule stays exact. Values are kept with their bounds, by identity, for one decision.
    """

    __slots__ = ("_known",)

    def __init__(self) -> None:
        self._known: dict[int, tuple[Any, int, bool]] = {}

    def of(self, value: Any) -> int:
        """An upper bound on ``value``'s size: its exact size, unless a bound is known."""
        entry = self._known.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        return self._measure(value)

    def check(self, state_name: str, value: Any, bound: int | None = None) -> None:
        """Raise States.DataLimitExceeded if ``value`` is more than a state may hand on.

        ``bound``, when given, is an upper bound on its size worked out without it.
        """
        entry = self._known.get(id(value))
        if entry is not None and entry[0] is value:
            if entry[1] <= MAX_PAYLOAD_BYTES:
                return  # already known to fit
            if entry[2]:
                raise _exceeded(state_name)
        if bound is not None and bound <= MAX_PAYLOAD_BYTES:
            self._known[id(value)] = (value, bound, False)
            return
        if self._measure(value) > MAX_PAYLOAD_BYTES:
            raise _exceeded(state_name)

    def _measure(self, value: Any) -> int:
        size = payload_size(value)
        self._known[id(value)] = (value, size, True)
        return size


def nesting_problem(what: str, value: Any) -> str | None:
    """Why ``value`` nests too deeply to be taken in, or None if it does not."""
    depth = nesting_depth(value, beyond=MAX_NESTING)
    if depth <= MAX_NESTING:
        return None
    return f"{what} nests more than {MAX_NESTING} levels deep (arrays and objects)"


def execution_input_problem(value: Any) -> str | None:
    """Why ``value`` cannot start an execution (too large, too deep), or None if it can."""
    try:
        size = payload_size(value)
    except PydanticSerializationError:
        size = None  # nested past what the encoder takes: named below
    if (too_deep := nesting_problem("the execution input", value)) is not None:
        return too_deep
    if size is None:
        return "the execution input cannot be written as JSON"
    if size <= MAX_PAYLOAD_BYTES:
        return None
    return (
        f"the execution input is {size} bytes, over the limit of {MAX_PAYLOAD_BYTES} bytes "
        "(256 KiB of UTF-8 JSON)"
    )
