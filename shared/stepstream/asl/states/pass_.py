"""Pass: hands its input (or a fixed Result) on, doing no work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl.dataflow import Env, state_input
from stepstream.asl.definition import ABSENT, QueryLanguage, StateDef, common_fields
from stepstream.asl.states.outcomes import Done, Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class PassState(StateDef):
    result: Any = ABSENT


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> PassState:
    return PassState(**common_fields(name, raw, language), result=raw.get("Result", ABSENT))


def step(state: PassState, raw: Any, env: Env) -> Outcome:
    if state.is_jsonata:
        return Done(raw)
    effective = state_input(state, raw, env)
    return Done(effective if state.result is ABSENT else state.result)
