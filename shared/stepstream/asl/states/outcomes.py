"""What a state's step yields: a closed family of frozen outcomes the interpreter matches on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepstream.asl.resources import ResourceRef


@dataclass(frozen=True, slots=True)
class Done:
    """The state produced its result; output shaping and Next/End follow."""

    result: Any


@dataclass(frozen=True, slots=True)
class Chose:
    """A Choice picked its next state; output and assignments are final."""

    next: str
    output: Any
    assigned: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Succeeded:
    output: Any


@dataclass(frozen=True, slots=True)
class Raised:
    """A named error from the state itself (a Fail state, a data-flow error): never retried."""

    error: str
    cause: str


@dataclass(frozen=True, slots=True)
class RunTask:
    resource: ResourceRef
    parameters: Any
    timeout_seconds: int | None
    heartbeat_seconds: int | None


@dataclass(frozen=True, slots=True)
class Sleep:
    until: datetime


@dataclass(frozen=True, slots=True)
class RunBranches:
    inputs: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RunItems:
    items: tuple[Any, ...]
    max_concurrency: int
    tolerated_failure_count: int | None
    tolerated_failure_percentage: float | None
    # With an ItemBatcher: where each batch starts in `items`, and its BatchInput.
    batches: tuple[int, ...] | None = None
    batch_input: Any = None

    @property
    def iterations(self) -> int:
        return len(self.items) if self.batches is None else len(self.batches)


Outcome = Done | Chose | Succeeded | Raised | RunTask | Sleep | RunBranches | RunItems

Transition = tuple[str, Any] | None  # (next state, its input), or None when the frame stops here
