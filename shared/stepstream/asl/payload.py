"""Payload templates in JSONPath mode: Parameters, ResultSelector, ItemSelector, Credentials.

A template is copied as it is, except that a key ending in ``.$`` loses the suffix and
its value, which must be a string, is evaluated: a path (``$...`` against the data,
``$$...`` against the context object, ``$name...`` against the variables) or an
intrinsic function call. Objects inside arrays are templates too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.intrinsics import IntrinsicSyntaxError, evaluate_intrinsic, parse_intrinsic
from stepstream.asl.json_values import compact_json, type_name
from stepstream.asl.jsonpath import (
    PathNotFound,
    PathSyntaxError,
    is_definite_path,
    path_error,
    select_with_context,
)
from stepstream.asl.ports import Entropy

__all__ = ["evaluate_template", "template_errors"]

_SUFFIX = ".$"
# A value starting like an intrinsic is judged as one, so a malformed call is reported
# for what is wrong with it rather than as a bad path.
_INTRINSIC_PREFIX = "States."
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def evaluate_template(
    template: Any,
    *,
    data: Any,
    context: Any,
    variables: Mapping[str, Any],
    entropy: Entropy,
    failure_error: str = errors.RUNTIME,
) -> Any:
    """The value ``template`` describes for ``data``.

    A definite path that matches nothing raises ``StatesError(failure_error)`` (States.Runtime,
    as Step Functions reports it, unless the caller asks otherwise); an indefinite one (a
    wildcard, slice or filter) selects an empty list instead. A ``.$`` value that is not a
    string or not a path raises States.Runtime; a failing intrinsic raises
    States.IntrinsicFailure.
    """
    return _Evaluation(data, context, variables, entropy, failure_error).value(template)


def template_errors(template: Any) -> list[tuple[str, str]]:
    """Every ``.$`` field of ``template`` that cannot work, as (location, message).

    Locations are paths from the template's root, such as ``$.Payload['id.$']``.
    """
    problems: list[tuple[str, str]] = []
    _collect_errors(template, "$", problems)
    return problems


class _Evaluation:
    # A plain class: templates are evaluated on every state transition, and a frozen
    # dataclass costs more to build than the rest of a small template.
    __slots__ = ("context", "data", "entropy", "failure_error", "variables")

    def __init__(
        self,
        data: Any,
        context: Any,
        variables: Mapping[str, Any],
        entropy: Entropy,
        failure_error: str,
    ) -> None:
        self.data = data
        self.context = context
        self.variables = variables
        self.entropy = entropy
        self.failure_error = failure_error

    def value(self, node: Any) -> Any:
        if isinstance(node, dict):
            return self.object(node)
        if isinstance(node, list):
            return [self.value(item) for item in node]
        return node

    def object(self, node: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, item in node.items():
            if key.endswith(_SUFFIX):
                result[key[: -len(_SUFFIX)]] = self.dynamic(key, item)
            else:
                result[key] = self.value(item)
        return result

    def dynamic(self, key: str, expr: Any) -> Any:
        if not isinstance(expr, str):
            raise StatesError(
                errors.RUNTIME,
                f"The value for the field '{key}' must be a string holding a JSONPath or an "
                f"intrinsic function, got {type_name(expr)} {compact_json(expr)}",
            )
        if expr.startswith(_INTRINSIC_PREFIX):
            return evaluate_intrinsic(
                expr,
                data=self.data,
                context=self.context,
                variables=self.variables,
                entropy=self.entropy,
            )
        try:
            return select_with_context(expr, self.data, self.context, self.variables)
        except PathNotFound as error:
            if not is_definite_path(expr):
                return []  # what a wildcard or slice over nothing selects
            raise StatesError(self.failure_error, self.not_found(key, expr, error)) from None
        except PathSyntaxError as error:
            raise StatesError(
                errors.RUNTIME,
                f"The value for the field '{key}' must be a valid JSONPath or a valid "
                f"intrinsic function call: {error.reason}",
            ) from None

    def not_found(self, key: str, expr: str, error: PathNotFound) -> str:
        prefix = f"The JSONPath '{expr}' specified for the field '{key}' could not be found"
        if expr.startswith("$$"):
            return f"{prefix} in the context object '{compact_json(self.context)}'"
        if expr == "$" or expr.startswith(("$.", "$[")):
            return f"{prefix} in the input '{compact_json(self.data)}'"
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
