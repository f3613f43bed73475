"""The state of a running execution, rebuilt from its history by `evolve`.

An execution is a tree of frames. A frame runs the states of one scope: the root frame
the machine itself, a child frame one Parallel branch or one Map iteration. A frame's id
is its path in that tree ("" for the root, "/2" for branch 2 of a Parallel at the top,
"/2/17" for item 17 of a Map inside it), and is the `scope` its events carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from stepstream.asl.definition import Scope, StateDef, StateMachineDef
from stepstream.asl.resources import ResourceRef


class Phase(Enum):
    ACTIVE = "active"  # running, or between two states
    TASK = "task"  # waiting for a task's answer
    TIMER = "timer"  # a Wait state waiting for its moment
    RETRY = "retry"  # waiting out a retry back-off
    CHILDREN = "children"  # a Parallel or Map waiting for its branches or iterations
    EXITED = "exited"  # left its last state; for a branch, that means done


@dataclass(slots=True)
class Timer:
    timer_id: str
    kind: str  # "wait", "retry", "timeout", "heartbeat", "execution-timeout"
    due_at: datetime
    frame_id: str | None = None
    task_id: str | None = None


@dataclass(slots=True)
class PendingTask:
    task_id: str
    frame_id: str
    resource: ResourceRef
    token: str | None
    heartbeat_seconds: int | None
    started: bool = False


@dataclass(slots=True)
class Group:
    """The branches of a Parallel or the iterations of a Map, as they stand."""

    kind: str  # "Parallel" or "Map"
    total: int
    children: list[str] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    items: tuple[Any, ...] = ()
    running: set[int] = field(default_factory=set)
    next_index: int = 0
    finished: int = 0
    failures: int = 0
    max_concurrency: int = 0
    tolerated_count: int | None = None
    tolerated_percentage: float | None = None
    # Map: the iterations that succeeded, and those a redrive runs again before going on
    # from `next_index` (they failed or were aborted).
    succeeded: set[int] = field(default_factory=set)
    redo: list[int] = field(default_factory=list)
    batches: tuple[int, ...] | None = None  # a batching Map's batch starts in `items`
    batch_input: Any = None

    @property
    def tolerates_failures(self) -> bool:
        return self.tolerated_count is not None or self.tolerated_percentage is not None

    def exceeded(self) -> bool:
        if self.tolerated_count is not None and self.failures > self.tolerated_count:
            return True
        if self.tolerated_percentage is not None and self.total:
            return self.failures * 100 / self.total > self.tolerated_percentage
        return not self.tolerates_failures and self.failures > 0


@dataclass(slots=True)
class Frame:
    id: str
    scope: Scope
    variables: dict[str, Any]
    parent: str | None = None
    index: int = 0
    state: StateDef | None = None
    input: Any = None
    output: Any = None
    entered_at: datetime | None = None
    entered_event: int = 0  # the id of the StateEntered event of `state`
    phase: Phase = Phase.ACTIVE
    retry_counts: list[int] = field(default_factory=list)
    retries: int = 0
    task_id: str | None = None
    timer_id: str | None = None
    group: Group | None = None
    # The branches or iterations as they stood when this Parallel or Map failed: what a
    # redrive picks up, so that only those that did not succeed run again.
    halted: Group | None = None


@dataclass(slots=True)
class ExecutionState:
    machine: StateMachineDef
    execution_arn: str
    state_machine_arn: str
    name: str
    status: str = "NOT_STARTED"
    input: Any = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    start_date: datetime | None = None
    stop_date: datetime | None = None
    last_event_id: int = 0
    frames: dict[str, Frame] = field(default_factory=dict)
    tasks: dict[str, PendingTask] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    # Frames that stopped without succeeding (a failed branch or iteration, or every frame
    # still open when the execution failed, timed out or was aborted), kept by id until
    # what they belong to moves on: a redrive reopens them where they stopped.
    retired: dict[str, Frame] = field(default_factory=dict)
    redrive_count: int = 0
    redrive_date: datetime | None = None
    # The client tokens of the latest redrives, so that a repeated request is one redrive.
    redrive_tokens: list[str] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.status == "RUNNING"

    def descendants(self, frame_id: str) -> list[str]:
        """The frames below `frame_id`: its branches or iterations, theirs, and so on."""
        frame = self.frames.get(frame_id)
        if frame is not None and not frame.scope.nests:
            # Nothing can run below a frame whose states open no branches or iterations;
            # scanning every frame for each of a Map's iterations cost the square of its size.
            return []
        prefix = frame_id + "/"
        return [fid for fid in self.frames if fid.startswith(prefix)]

    def forget_retired(self, frame: Frame) -> None:
        """`frame` moved on: what stopped below it is no longer a redrive's business."""
        frame.halted = None
        if self.retired:
            prefix = frame.id + "/"
            for fid in [fid for fid in self.retired if fid.startswith(prefix)]:
                del self.retired[fid]
