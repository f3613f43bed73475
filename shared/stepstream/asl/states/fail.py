"""Fail: ends its scope with a named error and cause."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl import errors, intrinsics, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path
from stepstream.asl.definition import QueryLanguage, StateDef, common_fields
from stepstream.asl.errors import StatesError
from stepstream.asl.states.outcomes import Outcome, Raised


@dataclass(frozen=True, slots=True, kw_only=True)
class FailState(StateDef):
    error: str | None = None
    error_path: str | None = None
    cause: str | None = None
    cause_path: str | None = None


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> FailState:
    return FailState(
        **common_fields(name, raw, language),
        error=raw.get("Error"),
        error_path=raw.get("ErrorPath"),
        cause=raw.get("Cause"),
        cause_path=raw.get("CausePath"),
    )


def _resolve(literal: str | None, path: str | None, raw: Any, env: Env, field: str) -> str:
    if literal is not None:
        if jsonata_expr.is_expression(literal):
            value = jsonata(literal, env, field.removesuffix("Path"), input=raw)
        else:
            return literal
    elif path is None:
        return ""
    elif intrinsics.is_intrinsic(path):
        value = intrinsics.evaluate_intrinsic(
            path, data=raw, context=env.context, variables=env.variables, entropy=env.entropy
        )
    else:
        value = select_path(path, raw, env, field)
    if not isinstance(value, str):
        raise StatesError(errors.RUNTIME, f"The value of {field} must be a string, got {value!r}")
    return value


def step(state: FailState, raw: Any, env: Env) -> Outcome:
    error = _resolve(state.error, state.error_path, raw, env, "ErrorPath")
    cause = _resolve(state.cause, state.cause_path, raw, env, "CausePath")
    return Raised(error, cause)
