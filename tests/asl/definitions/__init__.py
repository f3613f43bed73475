"""Definitions for the validation tests: stored machines, and builders for small ones."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from stepstream.asl.validation import load_definition, validate

_HERE = Path(__file__).parent


def stored(name: str) -> dict[str, Any]:
    """A definition stored next to this file, e.g. ``stored("fulfilment_saga")``."""
    return load_definition((_HERE / f"{name}.json").read_text(encoding="utf-8"))


def machine(states: dict[str, Any], start: str = "A", **fields: Any) -> dict[str, Any]:
    """A definition holding ``states``, starting at ``start``, with extra top-level fields."""
    return {"StartAt": start, "States": copy.deepcopy(states), **fields}


def one_state(state: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A definition whose only state, "A", is ``state``."""
    return machine({"A": state}, **fields)


def problems(definition: Any) -> list[tuple[str, str]]:
    """(location, message) of every error ``validate`` finds."""
    return [(error.location, error.message) for error in validate(definition)]


def only_problem(definition: Any) -> tuple[str, str]:
    """The one error in ``definition``; fails the test when there are none or several."""
    found = problems(definition)
    assert len(found) == 1, f"expected exactly one error, got {found}"
    return found[0]


TASK = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": True}
PASS_END = {"Type": "Pass", "End": True}
