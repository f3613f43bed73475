"""One module per ASL state type; this package maps a state's Type to its module."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepstream.asl.dataflow import Env, shape_output
from stepstream.asl.definition import QueryLanguage, StateDef
from stepstream.asl.states import choice, fail, map_, parallel, pass_, succeed, task, wait
from stepstream.asl.states.outcomes import Outcome

_PARSERS: dict[str, Callable[[str, dict[str, Any], QueryLanguage], StateDef]] = {
    "Pass": pass_.parse,
    "Task": task.parse,
    "Choice": choice.parse,
    "Wait": wait.parse,
    "Succeed": succeed.parse,
    "Fail": fail.parse,
    "Parallel": parallel.parse,
    "Map": map_.parse,
}


def parse_state(name: str, raw: dict[str, Any], language: QueryLanguage) -> StateDef:
    return _PARSERS[raw["Type"]](name, raw, language)


def step(state: StateDef, raw: Any, env: Env) -> Outcome:
    """Run a state's own work on its raw input."""
    match state:
        case pass_.PassState():
            return pass_.step(state, raw, env)
        case task.TaskState():
            return task.step(state, raw, env)
        case choice.ChoiceState():
            return choice.step(state, raw, env)
        case wait.WaitState():
            return wait.step(state, raw, env)
        case succeed.SucceedState():
            return succeed.step(state, raw, env)
        case fail.FailState():
            return fail.step(state, raw, env)
        case parallel.ParallelState():
            return parallel.step(state, raw, env)
        case map_.MapState():
            return map_.step(state, raw, env)
    raise TypeError(f"unknown state type {state.type}")


def output(state: StateDef, raw: Any, result: Any, env: Env) -> tuple[Any, dict[str, Any]]:
    """A state's output and the variables it assigns, once its work gave `result`."""
    if isinstance(state, wait.WaitState):
        return wait.output(state, raw, env)
    return shape_output(state, raw, result, env)
