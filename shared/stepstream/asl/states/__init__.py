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


_STEPS: dict[type[StateDef], Callable[[Any, Any, Env], Outcome]] = {
    pass_.PassState: pass_.step,
    task.TaskState: task.step,
    choice.ChoiceState: choice.step,
    wait.WaitState: wait.step,
    succeed.SucceedState: succeed.step,
    fail.FailState: fail.step,
    parallel.ParallelState: parallel.step,
    map_.MapState: map_.step,
}


def step(state: StateDef, raw: Any, env: Env) -> Outcome:
    """Run a state's own work on its raw input."""
    run = _STEPS.get(type(state))
    if run is None:
        raise TypeError(f"unknown state type {state.type}")
    return run(state, raw, env)


def output(state: StateDef, raw: Any, result: Any, env: Env) -> tuple[Any, dict[str, Any]]:
    """A state's output and the variables it assigns, once its work gave `result`."""
    if isinstance(state, wait.WaitState):
        return wait.output(state, raw, env)
    return shape_output(state, raw, result, env)
