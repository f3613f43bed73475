"""What a validation run carries while it walks a definition."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stepstream.asl.validation.site import Issues, Path, Site


@dataclass
class Scope:
    """One States map with its StartAt: the machine, a Parallel branch or a Map processor.

    Transitions never cross a scope's edge, so the graph checks run per scope.
    """

    site: Site  # the States object
    start: str | None  # StartAt, when it is a string
    states: dict[str, dict[str, Any]]  # the states that are objects, by name


NestedCheck = Callable[["Run", Site, Any, str], None]


@dataclass
class Run:
    """One validation: the problems found, every state name seen, every scope walked.

    ``check_branch`` and ``check_processor`` validate a nested scope (a Parallel branch, a
    Map's ItemProcessor); they are handed in so state checks need not import the walk.
    """

    issues: Issues
    check_branch: NestedCheck
    check_processor: NestedCheck
    names: dict[str, Path] = field(default_factory=dict)
    scopes: list[Scope] = field(default_factory=list)
