"""evolve(state, event): the one place an execution's state changes.

The decider emits events and applies each one here as it goes; loading an execution
applies its stored history here. Both therefore reach the same state, which is what lets
an execution stop wherever it waits and resume from its history alone.

This module only routes an event to the code that records it: the execution's own
events and those every state shares in `states.lifecycle`, the rest in the module of the
state type that emits them.
"""

from __future__ import annotations

from stepstream.asl.frames import ExecutionState
from stepstream.asl.history import STATE_TYPES, HistoryEvent
from stepstream.asl.states import lifecycle, map_, parallel, task, wait


def apply(state: ExecutionState, event: HistoryEvent) -> None:
    """Change `state` as `event` says."""
    state.last_event_id = event.id
    handler = _HANDLERS.get(event.type)
    if handler is not None:
        handler(state, event)
    # else an event that only informs (ParallelStateAborted, MapRunStarted, ...)


_HANDLERS: dict[str, lifecycle.Handler] = {
    **{f"{kind}StateEntered": lifecycle.state_entered for kind in STATE_TYPES},
    **{f"{kind}StateExited": lifecycle.state_exited for kind in STATE_TYPES},
    **lifecycle.HANDLERS,
    **task.HANDLERS,
    **wait.HANDLERS,
    **parallel.HANDLERS,
    **map_.HANDLERS,
}
