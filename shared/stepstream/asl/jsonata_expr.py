"""JSONata, the query language of states whose QueryLanguage is "JSONata".

In such a state any string of the form ``"{% expr %}"`` is an expression. It sees the
reserved variable ``$states`` (``input``, ``result``, ``errorOutput``, ``context``) and
every workflow variable as ``$name``, and never a context item: ``$`` and bare field
names at the top level have nothing to read. On top of the JSONata 2.0 library Step
Functions adds ``$partition``, ``$range``, ``$hash``, ``$random``, ``$uuid`` and
``$parse``, and takes ``$eval`` away; so does this module.

Every failure is ``States.QueryEvaluationError`` with the cause AWS writes, naming the
expression and the field it was written in, e.g. ``Arguments/Order/id`` or
``Choices[1]/Condition``. An expression that yields nothing (undefined) where a JSON
value is needed fails the same way.

Randomness and time come in through the ``entropy`` and ``clock`` ports, so an execution
that records what it drew replays identically.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from jsonata import Functions, Jsonata, Utils  # type: ignore[import-untyped]
from jsonata.parser import Parser  # type: ignore[import-untyped]

from stepstream.asl import payload
from stepstream.asl.errors import QUERY_EVALUATION_ERROR, RUNTIME, StatesError
from stepstream.asl.json_values import is_number, type_name
from stepstream.asl.ports import Clock, Entropy, SeededEntropy, SystemClock

OPEN = "{%"
CLOSE = "%}"
STATES_KEYS = frozenset({"input", "result", "errorOutput", "context"})
HASH_ALGORITHMS: Mapping[str, str] = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
# AWS refuses a $range longer than this with its memory-limit error.
RANGE_LIMIT = 360_145
# A runaway expression (a tail-recursive loop) must not hold an execution forever.
EVALUATION_SECONDS = 5.0
_DEADLINE_CHECK_EVERY = 1024
_EXACT_INTEGER = 2**53

_default_entropy = SeededEntropy(0)


class _FunctionError(Exception):
    """A failure inside one of the functions Step Functions adds to JSONata."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def is_expression(value: Any) -> bool:
    """Whether ``value`` is a JSONata expression string, ``"{% ... %}"``."""
    return (
        isinstance(value, str)
        and len(value) >= len(OPEN) + len(CLOSE)
        and value.startswith(OPEN)
        and value.endswith(CLOSE)
    )


def expression_error(text: str) -> str | None:
    """Why ``text`` is not a usable JSONata expression, or None when it is.

    ``text`` may be the whole ``"{% ... %}"`` string or just the expression inside it.
    """
    if not isinstance(text, str):
        return f"a JSONata expression must be a string, got {type_name(text)}"
    body = _body(text) if is_expression(text) else text.strip()
    if not body:
        return "the JSONata expression is empty"
    try:
        compiled = _compile(body)
    except Exception as error:
        return f"invalid JSONata expression '{body}': {_describe(error)}"
    if any(node.type == "variable" and node.value == "$" for node in _nodes(compiled.ast)):
        return f"invalid JSONata expression '{body}': Reference to '$$' is not supported."
    return None


def evaluate_expression(
    text: str,
    *,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str = "",
    entropy: Entropy | None = None,
    clock: Clock | None = None,
) -> Any:
    """The JSON value of one ``"{% ... %}"`` expression.

    ``field`` names where the expression was written (``Output/total``) for the error cause.
    """
    if not is_expression(text):
        raise ValueError(f"not a JSONata expression (expected '{OPEN} ... {CLOSE}'): {text!r}")
    return _Scope(states, variables, entropy, clock).expression(text, field)


def evaluate_jsonata_template(
    template: Any,
    *,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str = "",
    entropy: Entropy | None = None,
    clock: Clock | None = None,
) -> Any:
    """``template`` with every ``"{% ... %}"`` string in it replaced by its value.

    Used for Arguments, Output, Items, ItemSelector and the like; the template may also be a
    single expression string. Object keys are never evaluated.
    """
    return _Scope(states, variables, entropy, clock).template(template, field)


def evaluate_condition(
    text: str | bool,
    *,
    states: Mapping[str, Any],
    variables: Mapping[str, Any],
    field: str = "Condition",
    entropy: Entropy | None = None,
    clock: Clock | None = None,
) -> bool:
    """The verdict of a JSONata Choice rule's ``Condition``, which must be a boolean.

    A Condition may also be written as a literal ``true`` or ``false``.
    """
    if isinstance(text, bool):
        return text
    value = evaluate_expression(
        text, states=states, variables=variables, field=field, entropy=entropy, clock=clock
    )
    if not isinstance(value, bool):
        detail = f"Expected 'boolean', but was '{type_name(value)}'."
        raise _query_error(_body(text), field, f"returned an unexpected result type. {detail}")
    return value


def evaluate_assign(
    assign: Mapping[str, Any],
    *,
    mode: Literal["JSONPath", "JSONata"],
    variables: Mapping[str, Any],
    data: Any = None,
    context: Any = None,
    states: Mapping[str, Any] | None = None,
    field: str = "Assign",
    entropy: Entropy | None = None,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """The new values of the variables an ``Assign`` field sets.

    Every value is computed from the variables as they were *before* this Assign: the
    assignments are simultaneous, so ``{"a": "{% $b %}", "b": "{% $a %}"}`` swaps them.
    JSONPath mode reads ``data`` (the state's input or result) and ``context`` through
    ``"key.$"`` paths and intrinsics; JSONata mode reads ``states``.
    """
    if not isinstance(assign, Mapping):
        raise ValueError(f"Assign must be a JSON object, got {type_name(assign)}")
    before = dict(variables)
    if mode == "JSONata":
        scope = _Scope(states or {}, before, entropy, clock)
        return {name: scope.template(value, f"{field}/{name}") for name, value in assign.items()}
    if mode == "JSONPath":
        values = payload.evaluate_template(
            dict(assign),
            data=data,
            context=context,
            variables=before,
            entropy=entropy or _default_entropy,
            failure_error=RUNTIME,
        )
        return dict(values)
    raise ValueError(f"unknown query language {mode!r}; expected 'JSONPath' or 'JSONata'")


@dataclass(frozen=True, slots=True)
class _Scope:
    """What the expressions of one field see."""

    states: Mapping[str, Any]
    variables: Mapping[str, Any]
    entropy: Entropy | None
    clock: Clock | None

    def template(self, template: Any, field: str) -> Any:
        if is_expression(template):
            return self.expression(template, field)
        if isinstance(template, Mapping):
            return {
                key: self.template(value, f"{field}/{key}" if field else str(key))
                for key, value in template.items()
            }
        if isinstance(template, list):
            return [self.template(value, f"{field}[{i}]") for i, value in enumerate(template)]
        return template

    def expression(self, text: str, field: str) -> Any:
        body = _body(text)
        entropy, clock = self.entropy or _default_entropy, self.clock or SystemClock()
        bindings = _bindings(self.states, self.variables, entropy, clock)
        try:
            raw = _compile(body).evaluate(None, bindings)
        except Exception as error:
            detail = f"threw an error during evaluation. {_describe(error)}"
            raise _query_error(body, field, detail) from error
        if raw is None:
            raise _query_error(body, field, "returned nothing (undefined).")
        return _to_json(raw, body, field)


def _body(text: str) -> str:
    return text[len(OPEN) : -len(CLOSE)].strip()


@lru_cache(maxsize=2048)
def _compile(body: str) -> Any:
    compiled = Jsonata(body)
    # Keep JSON null apart from undefined: only undefined comes back as None.
    compiled.set_output_convert_nulls(False)
    return compiled


def _nodes(node: Any) -> Iterator[Any]:
    """Every node of a parsed expression, whichever field of its parent holds it."""
    if isinstance(node, Parser.Symbol):
        yield node
        children: Any = vars(node).values()
    else:
        children = node.values() if isinstance(node, dict) else node
    if isinstance(node, Parser.Symbol | dict | list | tuple):
        for child in children:
            yield from _nodes(child)


def _bindings(
    states: Mapping[str, Any], variables: Mapping[str, Any], entropy: Entropy, clock: Clock
) -> dict[str, Any]:
    unknown = set(states) - STATES_KEYS
    if unknown:
        raise ValueError(
            f"$states has no field {sorted(unknown)!r}; it holds only {sorted(STATES_KEYS)}"
        )
    # A variable holding JSON null must read as null, which the library spells NULL_VALUE;
    # a bare None would read as "no such variable".
    bindings: dict[str, Any] = {
        name: Utils.NULL_VALUE if value is None else value for name, value in variables.items()
    }
    bindings["states"] = dict(states)
    bindings.update(_aws_functions(entropy, clock))
    bindings["__evaluate_entry"] = _deadline_guard(time.monotonic() + EVALUATION_SECONDS)
    return bindings


def _deadline_guard(deadline: float) -> Callable[[Any, Any, Any], None]:
    calls = 0

    def check(_expr: Any, _input: Any, _environment: Any) -> None:
        nonlocal calls
        calls += 1
        if calls % _DEADLINE_CHECK_EVERY == 0 and time.monotonic() > deadline:
            raise _FunctionError(
                f"Expression evaluation timed out after {EVALUATION_SECONDS:g} seconds", "D1012"
            )

    return check


def _aws_functions(entropy: Entropy, clock: Clock) -> dict[str, Any]:
    def draw_random(*args: Any) -> float:
        if len(args) > 1:
            raise _signature_error("random", 2)
        if not args or args[0] is None:
            return entropy.random()
        return random.Random(_integer(args[0], "random", 1)).random()

    def uuid(*args: Any) -> str:
        if args:
            raise _signature_error("uuid", 1)
        return entropy.uuid()

    def now(picture: Any = None, timezone: Any = None) -> Any:
        return Functions.datetime_from_millis(_millis(clock), picture, timezone)

    return {
        "partition": Jsonata.JLambda(_partition),
        "range": Jsonata.JLambda(_range),
        "hash": Jsonata.JLambda(_hash),
        "parse": Jsonata.JLambda(_parse),
        "random": Jsonata.JLambda(draw_random),
        "uuid": Jsonata.JLambda(uuid),
        "now": Jsonata.JLambda(now),
        "millis": Jsonata.JLambda(lambda: _millis(clock)),
        # Step Functions removes $eval; $parse is its replacement.
        "eval": None,
    }


def _millis(clock: Clock) -> int:
    return int(clock.now().timestamp() * 1000)


def _partition(*args: Any) -> Any:
    if len(args) != 2:
        raise _signature_error("partition", 3 if len(args) > 2 else len(args) + 1)
    items, size = args
    if items is None or size is None:
        return None
    items = items if isinstance(items, list) else [items]
    chunk = _integer(size, "partition", 2)
    if chunk < 0:
        raise _FunctionError(f"$partition chunk size must be positive, got {size}")
    if chunk == 0 or not items:
        return None
    return [list(items[start : start + chunk]) for start in range(0, len(items), chunk)]


def _range(*args: Any) -> Any:
    if len(args) > 3:
        raise _signature_error("range", 4)
    for position, value in enumerate(args, start=1):
        if value is not None and not is_number(value):
            raise _signature_error("range", position)
    if len(args) < 3 or any(value is None for value in args):
        return None
    start, end, step = (_integer(value, "range", i) for i, value in enumerate(args, start=1))
    if step == 0 or (step > 0 and start > end) or (step < 0 and start < end):
        return None
    count = abs(end - start) // abs(step) + 1
    if count > RANGE_LIMIT:
        raise _FunctionError("Expression evaluation memory limit exceeded")
    # Like any JSONata sequence, a range of one value is that value.
    return start if count == 1 else [start + i * step for i in range(count)]


def _hash(*args: Any) -> Any:
    if len(args) > 2:
        raise _signature_error("hash", 3)
    if len(args) < 2 or args[0] is None or args[1] is None:
        return None
    data, algorithm = args
    if not isinstance(data, str):
        raise _signature_error("hash", 1)
    if algorithm not in HASH_ALGORITHMS:
        raise _FunctionError(
            f"$hash does not know the algorithm {algorithm!r}; "
            f"use one of {', '.join(HASH_ALGORITHMS)}"
        )
    return hashlib.new(HASH_ALGORITHMS[algorithm], data.encode("utf-8")).hexdigest()


def _parse(*args: Any) -> Any:
    if len(args) != 1:
        raise _signature_error("parse", 2 if args else 1)
    (text,) = args
    if text is None:
        return None
    if not isinstance(text, str):
        raise _signature_error("parse", 1)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise _FunctionError(f"$parse was given text that is not JSON: {error}") from error
    return Utils.NULL_VALUE if value is None else value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _integer(value: Any, function: str, position: int) -> int:
    if not is_number(value) or not math.isfinite(value):
        raise _signature_error(function, position)
    # int() drops the fraction toward zero, as AWS does with these arguments.
    return int(value)


def _signature_error(function: str, position: int) -> _FunctionError:
    return _FunctionError(
        f'Argument {position} of function "{function}" does not match function signature',
        "T0410",
    )


def _to_json(value: Any, body: str, field: str) -> Any:
    """A plain JSON value from what the library returns: its nulls, sequences and numbers."""
    if value is None or value is Utils.NULL_VALUE:
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _query_error(body, field, f"returned a number JSON cannot hold: {value}.")
        # JSONata numbers are doubles; a whole one prints without a fraction, as in JSON.
        return int(value) if value.is_integer() and abs(value) < _EXACT_INTEGER else value
    if isinstance(value, list):
        return [_to_json(item, body, field) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _to_json(item, body, field) for key, item in value.items()}
    raise _query_error(body, field, "returned a function, which is not a JSON value.")


def _describe(error: Exception) -> str:
    code = getattr(error, "code", "") or getattr(error, "error", "")
    if isinstance(error, ZeroDivisionError):
        code, message = "D1001", "Number out of range"
    elif isinstance(error, RecursionError):
        code, message = "D1011", "Stack overflow error: the expression nests too deeply"
    else:
        message = str(error)
    return f"{code}: {message}" if code else message


def _query_error(body: str, field: str, detail: str) -> StatesError:
    where = f" specified for the field '{field}'" if field else ""
    return StatesError(QUERY_EVALUATION_ERROR, f"The JSONata expression '{body}'{where} {detail}")
