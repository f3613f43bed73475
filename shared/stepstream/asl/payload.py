"""Payload templates in JSONPath mode: Parameters, ResultSelector, ItemSelector, Credentials.

A template is copied as it is, except that a key ending in ``.$`` loses the suffix and
its value, which must be a string, is evaluated: a path (``$...`` against the data,
``$$...`` against the context object, ``$name...`` against the variables) or an
intrinsic function call. Objects inside arrays are templates too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.intrinsics import (
    Compiled,
    IntrinsicSyntaxError,
    compile_intrinsic,
    parse_intrinsic,
)
from stepstream.asl.json_values import compact_json, type_name
from stepstream.asl.jsonpath import (
    PathNotFound,
    compile_path,
    is_definite_path,
    path_error,
)
from stepstream.asl.ports import Entropy

__all__ = ["Template", "compile_template", "evaluate_template", "template_errors"]

_SUFFIX = ".$"
# A value starting like an intrinsic is judged as one, so a malformed call is reported
# for what is wrong with it rather than as a bad path.
_INTRINSIC_PREFIX = "States."
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def evaluate_template(
    template: Any,
    *,
    data: Any,
    context: Any = None,
    variables: Mapping[str, Any],
    entropy: Entropy,
    failure_error: str = errors.RUNTIME,
    context_source: Callable[[], Any] | None = None,
) -> Any:
    """The value ``template`` describes for ``data``.

    A definite path that matches nothing raises ``StatesError(failure_error)`` (States.Runtime,
    as Step Functions reports it, unless the caller asks otherwise); an indefinite one (a
    wildcard, slice or filter) selects an empty list instead. A ``.$`` value that is not a
    string or not a path raises States.Runtime; a failing intrinsic raises
    States.IntrinsicFailure. The context object may be given as ``context_source``, a
    function giving it, called only if a ``$$`` path reads it.
    """
    source = context_source if context_source is not None else (lambda: context)
    evaluation = _Evaluation(data, source, variables, entropy, failure_error)
    return compile_template(template)(evaluation)


def compile_template(template: Any) -> Template:
    """``template`` turned into a function of an evaluation, once per template object.

    Templates come from definitions, which are parsed once and never changed, so the
    compiled form is kept by the template's identity (with the template itself, so that
    identity cannot pass to another object while it is kept).
    """
    entry = _COMPILED.get(id(template))
    if entry is not None and entry[0] is template:
        return entry[1]
    compiled = _compile(template)
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(template)] = (template, compiled)
    return compiled


def template_errors(template: Any) -> list[tuple[str, str]]:
    """Every ``.$`` field of ``template`` that cannot work, as (location, message).

    Locations are paths from the template's root, such as ``$.Payload['id.$']``.
    """
    problems: list[tuple[str, str]] = []
    _collect_errors(template, "$", problems)
    return problems


class _Evaluation:
    """What one evaluation of a template reads."""

    __slots__ = ("context", "data", "entropy", "failure_error", "variables")

    def __init__(
        self,
        data: Any,
        context: Callable[[], Any],
        variables: Mapping[str, Any],
        entropy: Entropy,
        failure_error: str,
    ) -> None:
        self.data = data
        self.context = context
        self.variables = variables
        self.entropy = entropy
        self.failure_error = failure_error


Template = Callable[[_Evaluation], Any]
_COMPILED: dict[int, tuple[Any, Template]] = {}
_COMPILED_LIMIT = 4096


def _compile(node: Any) -> Template:
    if isinstance(node, dict):
        return _compile_object(node)
    if isinstance(node, list):
        items = [_compile(item) for item in node]
        return lambda evaluation: [item(evaluation) for item in items]
    return lambda evaluation: node


def _compile_object(node: dict[str, Any]) -> Template:
    fields = tuple(
        (key[: -len(_SUFFIX)], _compile_dynamic(key, item))
        if key.endswith(_SUFFIX)
        else (key, _compile(item))
        for key, item in node.items()
    )
    # Intrinsic calls, the commonest dynamic fields, are called straight from here.
    plan = tuple(
        (key, field, field.run if isinstance(field, _IntrinsicField) else None)
        for key, field in fields
    )

    def build(e: _Evaluation) -> dict[str, Any]:
        data, context, variables, entropy = e.data, e.context, e.variables, e.entropy
        return {
            key: run(data, context, variables, entropy) if run is not None else field(e)
            for key, field, run in plan
        }

    return build


class _IntrinsicField:
    """A ``.$`` field holding an intrinsic call."""

    __slots__ = ("run",)

    def __init__(self, run: Compiled) -> None:
        self.run = run

    def __call__(self, e: _Evaluation) -> Any:
        return self.run(e.data, e.context, e.variables, e.entropy)


def _compile_dynamic(key: str, expr: Any) -> Template:
    if not isinstance(expr, str):
        failure = StatesError(
            errors.RUNTIME,
            f"The value for the field '{key}' must be a string holding a JSONPath or an "
            f"intrinsic function, got {type_name(expr)} {compact_json(expr)}",
        )
        return _raising(failure)
    if expr.startswith(_INTRINSIC_PREFIX):
        return _IntrinsicField(compile_intrinsic(expr))
    reason = path_error(expr)
    if reason is not None:
        return _raising(
            StatesError(
                errors.RUNTIME,
                f"The value for the field '{key}' must be a valid JSONPath or a valid "
                f"intrinsic function call: {reason}",
            )
        )
    select = compile_path(expr)
    definite = is_definite_path(expr)
    from_context = expr.startswith("$$")

    def dynamic(evaluation: _Evaluation) -> Any:
        context = evaluation.context() if from_context else None
        try:
            return select(evaluation.data, context, evaluation.variables)
        except PathNotFound as error:
            if not definite:
                return []  # what a wildcard or slice over nothing selects
            cause = _not_found(evaluation, key, expr, error)
            raise StatesError(evaluation.failure_error, cause) from None

    return dynamic


def _raising(failure: StatesError) -> Template:
    def fail(evaluation: _Evaluation) -> Any:
        raise StatesError(failure.error, failure.cause)

    return fail


def _not_found(evaluation: _Evaluation, key: str, expr: str, error: PathNotFound) -> str:
    prefix = f"The JSONPath '{expr}' specified for the field '{key}' could not be found"
    if expr.startswith("$$"):
        return f"{prefix} in the context object '{compact_json(evaluation.context())}'"
    if expr == "$" or expr.startswith(("$.", "$[")):
        return f"{prefix} in the input '{compact_json(evaluation.data)}'"
    return f"{prefix}: {error.reason}"


def _collect_errors(node: Any, location: str, problems: list[tuple[str, str]]) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _collect_errors(item, f"{location}[{index}]", problems)
        return
    if not isinstance(node, dict):
        return
    for key, item in node.items():
        here = _child_location(location, key)
        if not key.endswith(_SUFFIX):
            _collect_errors(item, here, problems)
            continue
        field = key[: -len(_SUFFIX)]
        if field in node:
            problems.append((here, f"'{key}' and '{field}' both set the field '{field}'"))
        problem = _dynamic_problem(key, item)
        if problem is not None:
            problems.append((here, problem))


def _dynamic_problem(key: str, expr: Any) -> str | None:
    if not isinstance(expr, str):
        return (
            f"the value of '{key}' must be a string holding a JSONPath or an intrinsic "
            f"function, got {type_name(expr)}"
        )
    if expr.startswith(_INTRINSIC_PREFIX):
        try:
            parse_intrinsic(expr)
        except IntrinsicSyntaxError as error:
            return f"{expr!r} is not a valid intrinsic function call: {error.reason}"
        return None
    reason = path_error(expr)
    if reason is not None:
        return f"{expr!r} is not a valid JSONPath or intrinsic function call: {reason}"
    return None


def _child_location(location: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{location}.{key}"
    quoted = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"{location}['{quoted}']"
