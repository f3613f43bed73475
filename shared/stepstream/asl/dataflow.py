"""How data moves through a state: input filtering before its work, output shaping after.

JSONPath states: InputPath -> Parameters -> (work) -> ResultSelector -> ResultPath ->
OutputPath. JSONata states: Arguments -> (work) -> Output. Assign, in both, sees the
variables as they were before the state, so assignments are simultaneous.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from stepstream.asl import errors, jsonata_expr, jsonpath, payload
from stepstream.asl.choice_rules import compile_rule
from stepstream.asl.definition import ABSENT, StateDef
from stepstream.asl.errors import StatesError
from stepstream.asl.jsonpath import PathNotFound
from stepstream.asl.ports import Entropy


class Env:
    """What expressions may see while one state runs.

    The context object is built only when an expression reads it: most transitions never
    do, and building it (two timestamps as text among them) cost more than the rest of a
    simple state.
    """

    __slots__ = ("_build", "_context", "entropy", "now", "variables")

    def __init__(
        self,
        *,
        variables: Mapping[str, Any],
        entropy: Entropy,
        now: datetime,
        context: dict[str, Any] | None = None,
        build: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self._context = context
        self._build = build
        self.variables = variables
        self.entropy = entropy
        self.now = now

    @property
    def context(self) -> dict[str, Any]:
        return self.load_context()

    def load_context(self) -> dict[str, Any]:
        if self._context is None:
            self._context = self._build() if self._build is not None else {}
        return self._context


def select_path(path: str | None, data: Any, env: Env, field: str) -> Any:
    """InputPath/OutputPath: null gives {}, a path that matches nothing is States.Runtime."""
    if path is None:
        return {}
    if path == "$":
        return data
    try:
        context = env.context if path.startswith("$$") else None
        return jsonpath.select_with_context(path, data, context, env.variables)
    except PathNotFound as miss:
        raise StatesError(errors.RUNTIME, f"Invalid path '{path}' : {miss.detail}") from None


def template(value: Any, data: Any, env: Env, failure_error: str = errors.RUNTIME) -> Any:
    return payload.evaluate_template(
        value,
        data=data,
        context_source=env.load_context,
        variables=env.variables,
        entropy=env.entropy,
        failure_error=failure_error,
    )


def jsonata(value: Any, env: Env, field: str, **states: Any) -> Any:
    """Evaluate a JSONata field; `field` names it in errors (``Output``, ``Assign``)."""
    return jsonata_expr.evaluate_jsonata_template(
        value,
        states={"context": env.context, **states},
        variables=env.variables,
        entropy=env.entropy,
        field=field,
    )


def state_input(state: StateDef, raw: Any, env: Env) -> Any:
    """The input the state's work gets."""
    if state.is_jsonata:
        if state.arguments is ABSENT:
            return raw
        return jsonata(state.arguments, env, "Arguments", input=raw)
    data = select_path(state.input_path, raw, env, "InputPath")
    if state.parameters is ABSENT:
        return data
    return template(state.parameters, data, env)


def shape_output(state: StateDef, raw: Any, result: Any, env: Env) -> tuple[Any, dict[str, Any]]:
    """The state's output and the variables it assigns, from its input and its result."""
    if state.is_jsonata:
        output = (
            result
            if state.output is ABSENT
            else jsonata(state.output, env, "Output", input=raw, result=result)
        )
        assigned = assign_jsonata(state.assign, env, input=raw, result=result)
        return output, assigned
    if state.result_selector is not ABSENT:
        result = template(state.result_selector, result, env)
    assigned = assign_jsonpath(state.assign, result, env)
    merged = jsonpath.apply_result_path(raw, result, state.result_path)
    return select_path(state.output_path, merged, env, "OutputPath"), assigned


def passthrough_output(state: StateDef, raw: Any, env: Env) -> tuple[Any, dict[str, Any]]:
    """Output of a state without a result (Wait, Succeed): its filtered input."""
    if state.is_jsonata:
        output = raw if state.output is ABSENT else jsonata(state.output, env, "Output", input=raw)
        return output, assign_jsonata(state.assign, env, input=raw)
    data = select_path(state.input_path, raw, env, "InputPath")
    assigned = assign_jsonpath(state.assign, data, env)
    return select_path(state.output_path, data, env, "OutputPath"), assigned


def assign_jsonpath(assign: Any, data: Any, env: Env) -> dict[str, Any]:
    if assign is ABSENT:
        return {}
    values = template(assign, data, env, errors.RUNTIME)
    return dict(values)


def assign_jsonata(assign: Any, env: Env, **states: Any) -> dict[str, Any]:
    if assign is ABSENT:
        return {}
    return dict(jsonata(assign, env, "Assign", **states))


def caught_output(
    state: StateDef,
    catcher_result_path: str | None,
    catcher_output: Any,
    catcher_assign: Any,
    raw: Any,
    error_output: dict[str, str],
    env: Env,
) -> tuple[Any, dict[str, Any]]:
    """What a Catch hands to its Next state, and what it assigns."""
    if state.is_jsonata:
        output = (
            error_output
            if catcher_output is ABSENT
            else jsonata(catcher_output, env, "Output", input=raw, errorOutput=error_output)
        )
        return output, assign_jsonata(catcher_assign, env, input=raw, errorOutput=error_output)
    assigned = assign_jsonpath(catcher_assign, error_output, env)
    return jsonpath.apply_result_path(raw, error_output, catcher_result_path), assigned


def rule_matches(
    rule: Mapping[str, Any], language_jsonata: bool, data: Any, raw: Any, env: Env
) -> bool:
    if language_jsonata:
        return jsonata_expr.evaluate_condition(
            rule["Condition"],
            states={"context": env.context, "input": raw},
            variables=env.variables,
            entropy=env.entropy,
        )
    return compile_rule(rule)(data, env.load_context, env.variables)
