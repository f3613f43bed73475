"""Parallel: runs every branch on the same input; the result is the list of their outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stepstream.asl.dataflow import Env, state_input
from stepstream.asl.definition import QueryLanguage, Scope, StateDef, common_fields, parse_scope
from stepstream.asl.frames import ExecutionState, Frame, Group, Phase
from stepstream.asl.history import FailureDetails, HistoryEvent
from stepstream.asl.states import lifecycle
from stepstream.asl.states.outcomes import Outcome, RunBranches

if TYPE_CHECKING:
    from stepstream.asl.states.base import Runner


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(StateDef):
    branches: tuple[Scope, ...] = ()

    def child_scope(self, index: int) -> Scope:
        return self.branches[index]


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> ParallelState:
    branches = tuple(
        parse_scope(branch, branch.get("QueryLanguage", language)) for branch in raw["Branches"]
    )
    return ParallelState(**common_fields(name, raw, language), branches=branches)


def step(state: ParallelState, raw: Any, env: Env) -> Outcome:
    effective = state_input(state, raw, env)
    return RunBranches(tuple(effective for _ in state.branches))


# -- deciding ------------------------------------------------------------------------------


def run_branches(run: Runner, frame: Frame, plan: RunBranches) -> None:
    run.emit("ParallelStateStarted", None, frame.id)
    assert frame.group is not None
    for child_id, branch_input in zip(frame.group.children, plan.inputs, strict=True):
        run.enter_later(run.state.frames[child_id], branch_input)


# A queued step carries the group it was queued for: by the time it runs, the Parallel
# may have ended and its frame moved on to another Parallel or a Map.


def branch_succeeded(run: Runner, parent: Frame) -> None:
    group = parent.group
    run.later(lambda: _progress(run, parent, group))


def branch_failed(run: Runner, parent: Frame, error: str, cause: str) -> None:
    group = parent.group
    run.later(lambda: _failed(run, parent, group, error, cause))


def _still_waiting(run: Runner, parent: Frame, group: Group | None) -> bool:
    return (
        group is not None
        and parent.group is group
        and parent.phase is Phase.CHILDREN
        and run.state.frames.get(parent.id) is parent
    )


def _progress(run: Runner, parent: Frame, group: Group | None) -> None:
    if group is None or not _still_waiting(run, parent, group):
        return
    children = [run.state.frames[c] for c in group.children]
    if any(child.phase is not Phase.EXITED for child in children):
        return
    results = [child.output for child in children]
    run.emit("ParallelStateSucceeded", None, parent.id)
    run.resume(parent, run.exit(parent, results, run.env(parent)))


def _failed(run: Runner, parent: Frame, group: Group | None, error: str, cause: str) -> None:
    if not _still_waiting(run, parent, group):
        return  # another branch already failed this Parallel
    failure = ("ParallelStateFailed", FailureDetails(error=error, cause=cause))
    run.resume(parent, run.fail_state(parent, error, cause, failure))


# -- recording -----------------------------------------------------------------------------


def started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    lifecycle.clear_timer(state, frame)
    state.forget_retired(frame)
    assert isinstance(frame.state, ParallelState)
    count = len(frame.state.branches)
    frame.group = Group(kind="Parallel", total=count, results=[None] * count)
    frame.phase = Phase.CHILDREN
    for index in range(count):
        child = lifecycle.child_frame(state, f"{frame.id}/{index}")
        frame.group.children.append(child.id)
        frame.group.running.add(index)


def failed(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    lifecycle.retire_frames(state, state.descendants(frame.id))
    frame.halted, frame.group = frame.group, None
    lifecycle.state_failed(state, event)


HANDLERS: dict[str, lifecycle.Handler] = {
    "ParallelStateStarted": started,
    "ParallelStateSucceeded": lifecycle.children_done,
    "ParallelStateFailed": failed,
}
