"""Decoding a command's input, the order document, into a service's own input model.

Each command has an input model of its own naming only the fields it reads; everything
else in the document (results of earlier steps, error details) is ignored, so the
document can grow without breaking any service.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from services.common.errors import InvalidOrder

M = TypeVar("M", bound=BaseModel)


class OrderInput(BaseModel):
    """Base of the input models: camelCase names as in the document, extra fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


def describe(error: ValidationError) -> str:
    """Every problem in ``error``, one clause each, naming the field by its path."""
    clauses = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "(input)"
        if problem["type"] == "missing":
            clauses.append(f"field '{where}' missing")
        else:
            clauses.append(f"field '{where}' invalid: {problem['msg']}")
    return "; ".join(clauses)


def decode_input(model: type[M], value: Any, *, command: str) -> M:
    """``value`` as ``model``, or ``InvalidOrder`` naming every field that is wrong."""
    if not isinstance(value, dict):
        raise InvalidOrder(f"{command} needs an order object as its input, got {_json_type(value)}")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise InvalidOrder(f"{command} cannot use this order: {describe(exc)}") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def command_key(idempotency_key: str | None, order_id: str) -> str:
    """The key a command's effects are recorded under: its own, else one per order.

    The orchestrator always sends a key (stable across retries of a state); a command
    sent by hand without one is still done once per order.
    """
    return idempotency_key or f"order:{order_id}"
