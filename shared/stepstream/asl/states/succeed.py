"""Succeed: ends its scope successfully with its filtered input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl.dataflow import Env, passthrough_output
from stepstream.asl.definition import QueryLanguage, StateDef, common_fields
from stepstream.asl.states.outcomes import Outcome, Succeeded


@dataclass(frozen=True, slots=True, kw_only=True)
class SucceedState(StateDef):
    pass


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> SucceedState:
    return SucceedState(**common_fields(name, raw, language))


def step(state: SucceedState, raw: Any, env: Env) -> Outcome:
    output, _ = passthrough_output(state, raw, env)
    return Succeeded(output)
