"""Choice: picks the next state by the first rule that holds, else Default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl import errors
from stepstream.asl.dataflow import (
    Env,
    assign_jsonata,
    assign_jsonpath,
    jsonata,
    rule_matches,
    select_path,
)
from stepstream.asl.definition import ABSENT, QueryLanguage, StateDef, common_fields
from stepstream.asl.states.outcomes import Chose, Outcome, Raised


@dataclass(frozen=True, slots=True, kw_only=True)
class ChoiceState(StateDef):
    choices: tuple[dict[str, Any], ...] = ()
    default: str | None = None


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> ChoiceState:
    return ChoiceState(
        **common_fields(name, raw, language),
        choices=tuple(raw.get("Choices", ())),
        default=raw.get("Default"),
    )


def _chose(
    state: ChoiceState, target: str, assign: Any, output: Any, raw: Any, data: Any, env: Env
) -> Chose:
    if state.is_jsonata:
        shaped = raw if output is ABSENT else jsonata(output, env, "Output", input=raw)
        return Chose(target, shaped, assign_jsonata(assign, env, input=raw))
    assigned = assign_jsonpath(assign, data, env)
    return Chose(target, select_path(state.output_path, data, env, "OutputPath"), assigned)


def step(state: ChoiceState, raw: Any, env: Env) -> Outcome:
    data = raw if state.is_jsonata else select_path(state.input_path, raw, env, "InputPath")
    for rule in state.choices:
        if rule_matches(rule, state.is_jsonata, data, raw, env):
            return _chose(
                state,
                rule["Next"],
                rule.get("Assign", ABSENT),
                rule.get("Output", ABSENT),
                raw,
                data,
                env,
            )
    if state.default is not None:
        return _chose(state, state.default, state.assign, state.output, raw, data, env)
    return Raised(errors.NO_CHOICE_MATCHED, f"No Matches! in Choice state '{state.name}'")
