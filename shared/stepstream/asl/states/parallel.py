"""Parallel: runs every branch on the same input; the result is the list of their outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl.dataflow import Env, state_input
from stepstream.asl.definition import QueryLanguage, Scope, StateDef, common_fields, parse_scope
from stepstream.asl.states.outcomes import Outcome, RunBranches


@dataclass(frozen=True, slots=True, kw_only=True)
class ParallelState(StateDef):
    branches: tuple[Scope, ...] = ()


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> ParallelState:
    branches = tuple(
        parse_scope(branch, branch.get("QueryLanguage", language)) for branch in raw["Branches"]
    )
    return ParallelState(**common_fields(name, raw, language), branches=branches)


def step(state: ParallelState, raw: Any, env: Env) -> Outcome:
    effective = state_input(state, raw, env)
    return RunBranches(tuple(effective for _ in state.branches))
