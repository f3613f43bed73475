"""Choice rules of JSONPath states: comparisons, type tests and their boolean combinations.

A rule is either a comparison (``Variable`` plus exactly one operator such as
``NumericGreaterThan`` or ``StringEqualsPath``) or a combinator (``And``/``Or`` over a
list of rules, ``Not`` over one rule). As on AWS:

* a comparison whose ``Variable`` (or whose ``...Path`` operand) selects nothing fails the
  state with ``States.Runtime``, except ``IsPresent``, which exists to ask exactly that;
* a value of the wrong type simply does not match (``NumericEquals`` against a string is
  false, not an error);
* strings order by UTF-16 code units, numbers by value, timestamps (RFC 3339 with an
  upper-case ``T`` and an explicit offset) by the instant they name;
* ``StringMatches`` knows one wildcard, ``*``; ``\\*`` is a literal star and ``\\\\`` a
  literal backslash.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from stepstream.asl import jsonpath
from stepstream.asl.errors import RUNTIME, StatesError
from stepstream.asl.json_values import is_number, type_name
from stepstream.asl.timestamps import parse_timestamp

Relation = Callable[[Any, Any], bool]

_RELATIONS: Mapping[str, Relation] = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_KIND_RELATIONS: Mapping[str, tuple[str, ...]] = {
    "String": tuple(_RELATIONS),
    "Numeric": tuple(_RELATIONS),
    "Boolean": ("Equals",),
    "Timestamp": tuple(_RELATIONS),
}

# Operator name -> (kind, relation). StringMatches has no Path form on AWS.
COMPARISONS: Mapping[str, tuple[str, str]] = {
    **{
        f"{kind}{relation}": (kind, relation)
        for kind, relations in _KIND_RELATIONS.items()
        for relation in relations
    },
    "StringMatches": ("String", "Matches"),
}
PATH_COMPARISONS: Mapping[str, tuple[str, str]] = {
    f"{name}Path": spec for name, spec in COMPARISONS.items() if name != "StringMatches"
}
TYPE_TESTS = frozenset({"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"})
COMBINATORS = frozenset({"And", "Or", "Not"})
OPERATORS = frozenset(COMPARISONS) | frozenset(PATH_COMPARISONS) | TYPE_TESTS | COMBINATORS
# Fields a top-level rule carries for its Choice state, not for the test itself.
TOP_LEVEL_FIELDS = frozenset({"Next", "Assign"})
# Fields any rule may carry, nested ones included, that the test ignores.
REMARKS = frozenset({"Comment"})

_MISSING = object()


def evaluate_rule(
    rule: Mapping[str, Any], *, data: Any, context: Any, variables: Mapping[str, Any]
) -> bool:
    """Whether ``rule`` holds for the state's ``data``.

    ``Variable`` and ``...Path`` operands may read the input (``$.x``), the context object
    (``$$.Execution.Id``) or a workflow variable (``$order.total``).
    """
    return compile_rule(rule)(data, lambda: context, variables)


# A compiled rule: (data, a function giving the context object, variables) -> holds.
Test = Callable[[Any, Callable[[], Any], Mapping[str, Any]], bool]
_COMPILED: dict[int, tuple[Mapping[str, Any], Test]] = {}
_COMPILED_LIMIT = 4096


def compile_rule(rule: Mapping[str, Any]) -> Test:
    """``rule`` turned into a function once: paths parsed, operands prepared.

    Rules come from definitions, parsed once and never changed, so the compiled form is
    kept by the rule's identity (with the rule itself, so the identity stays its own).
    """
    entry = _COMPILED.get(id(rule))
    if entry is not None and entry[0] is rule:
        return entry[1]
    compiled = _compile(rule)
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    _COMPILED[id(rule)] = (rule, compiled)
    return compiled


def _compile(rule: Mapping[str, Any]) -> Test:
    if "And" in rule or "Or" in rule:
        combine = all if "And" in rule else any
        rules = rule["And"] if "And" in rule else rule["Or"]
        if not isinstance(rules, list):
            raise ValueError(f"And/Or must hold a list of rules, got {rules!r}")
        parts = [_compile(inner) for inner in rules]
        return lambda data, context, variables: combine(
            part(data, context, variables) for part in parts
        )
    if "Not" in rule:
        inner = _compile(rule["Not"])
        return lambda data, context, variables: not inner(data, context, variables)
    name = _operator_of(rule)
    variable = rule.get("Variable")
    if not isinstance(variable, str):
        raise ValueError(f"Choice rule has no Variable path: {dict(rule)!r}")
    select = _selector(variable)
    if name == "IsPresent":
        wanted = rule[name]
        return lambda data, context, variables: (
            (select(data, context, variables) is not _MISSING) == wanted
        )
    if name in TYPE_TESTS:
        return _compile_type_test(name, rule[name], select, variable)
    if name in PATH_COMPARISONS:
        return _compile_path_comparison(name, rule[name], select, variable)
    kind, relation = COMPARISONS[name]
    holds = _comparison(kind, relation, rule[name])

    def compare(data: Any, context: Callable[[], Any], variables: Mapping[str, Any]) -> bool:
        value = select(data, context, variables)
        if value is _MISSING:
            raise _invalid_path(variable)
        return holds(value)

    return compare


Selector = Callable[[Any, Callable[[], Any], Mapping[str, Any]], Any]


def _selector(path: str) -> Selector:
    """The value at ``path``, or _MISSING when it selects nothing."""
    compiled = jsonpath.compile_path(path)
    from_context = path.startswith("$$")

    def select(data: Any, context: Callable[[], Any], variables: Mapping[str, Any]) -> Any:
        try:
            return compiled(data, context() if from_context else None, variables)
        except LookupError:
            return _MISSING

    return select


def _compile_type_test(name: str, wanted: Any, select: Selector, variable: str) -> Test:
    def test(data: Any, context: Callable[[], Any], variables: Mapping[str, Any]) -> bool:
        value = select(data, context, variables)
        if value is _MISSING:
            raise _invalid_path(variable)
        return bool(_type_test(name, value) == wanted)

    return test


def _compile_path_comparison(name: str, path: Any, select: Selector, variable: str) -> Test:
    kind, relation = PATH_COMPARISONS[name]
    select_operand = _selector(path)

    def compare(data: Any, context: Callable[[], Any], variables: Mapping[str, Any]) -> bool:
        value = select(data, context, variables)
        if value is _MISSING:
            raise _invalid_path(variable)
        operand = select_operand(data, context, variables)
        if operand is _MISSING:
            raise _invalid_path(path)
        return _compare(kind, relation, value, operand)

    return compare


def _comparison(kind: str, relation: str, operand: Any) -> Callable[[Any], bool]:
    """A comparison against a literal operand, with the operand prepared once."""
    if kind == "Numeric":
        if not is_number(operand):
            return lambda value: False
        holds = _RELATIONS[relation]
        return lambda value: is_number(value) and holds(value, operand)
    if kind == "Boolean":
        return lambda value: (
            isinstance(value, bool) and isinstance(operand, bool) and value == operand
        )
    if not isinstance(operand, str):
        return lambda value: False
    if relation == "Matches":
        matches = _wildcard(operand)
        return lambda value: isinstance(value, str) and matches(value)
    if kind == "String":
        holds, encoded = _RELATIONS[relation], _utf16(operand)
        if relation == "Equals":
            return lambda value: value == operand  # equal strings have equal code units
        return lambda value: isinstance(value, str) and holds(_utf16(value), encoded)
    other = _timestamp(operand)
    if other is None:
        return lambda value: False
    holds = _RELATIONS[relation]

    def timestamp(value: Any) -> bool:
        moment = _timestamp(value) if isinstance(value, str) else None
        return moment is not None and holds(moment, other)

    return timestamp


def rule_errors(rule: Any, *, at: str = "") -> list[tuple[str, str]]:
    """Every structural problem in a JSONPath Choice rule, as (location, message).

    Locations extend ``at`` ("Choices[0]") with the nesting (``Choices[0].And[1].Not``).
    ``Next`` and ``Assign`` are accepted on the top-level rule only, ``Comment`` (a string)
    on any rule.
    """
    return _rule_errors(rule, at, top_level=True)


def _operator_of(rule: Mapping[str, Any]) -> str:
    names = [key for key in rule if key in OPERATORS]
    if len(names) != 1:
        raise ValueError(f"Choice rule must have exactly one operator, found {names}: {rule!r}")
    return names[0]


def _invalid_path(path: str) -> StatesError:
    return StatesError(
        RUNTIME,
        f"Invalid path '{path}': The choice state's condition path references an invalid value.",
    )


def _type_test(name: str, value: Any) -> bool:
    if name == "IsNull":
        return value is None
    if name == "IsNumeric":
        return is_number(value)
    if name == "IsString":
        return isinstance(value, str)
    if name == "IsBoolean":
        return isinstance(value, bool)
    if name == "IsTimestamp":
        return isinstance(value, str) and _timestamp(value) is not None
    raise ValueError(f"unknown type test {name}")


def _compare(kind: str, relation: str, value: Any, operand: Any) -> bool:
    if kind == "Numeric":
        return is_number(value) and is_number(operand) and _RELATIONS[relation](value, operand)
    if kind == "Boolean":
        return isinstance(value, bool) and isinstance(operand, bool) and value == operand
    if not isinstance(value, str) or not isinstance(operand, str):
        return False
    if relation == "Matches":
        return _wildcard(operand)(value)
    if kind == "String":
        return _RELATIONS[relation](_utf16(value), _utf16(operand))
    moment, other = _timestamp(value), _timestamp(operand)
    return moment is not None and other is not None and _RELATIONS[relation](moment, other)


def _utf16(text: str) -> bytes:
    # Step Functions orders strings as Java does, by UTF-16 code unit; big-endian UTF-16
    # bytes sort the same way (code point order differs above the surrogate range).
    return text.encode("utf-16-be", "surrogatepass")


@lru_cache(maxsize=1024)
def _timestamp(text: str) -> datetime | None:
    return parse_timestamp(text)


@lru_cache(maxsize=1024)
def _wildcard(pattern: str) -> Callable[[str], bool]:
    """A matcher for a StringMatches pattern: literal pieces between unescaped stars."""
    pieces = _pattern_pieces(pattern)
    if len(pieces) == 1:
        return lambda text: text == pieces[0]
    head, *middle, tail = pieces

    def matches(text: str) -> bool:
        if len(text) < len(head) + len(tail) or not text.startswith(head):
            return False
        if not text.endswith(tail):
            return False
        position, stop = len(head), len(text) - len(tail)
        for piece in middle:
            found = text.find(piece, position, stop)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return matches


def _pattern_pieces(pattern: str) -> list[str]:
    pieces, current, index = [], [], 0
    while index < len(pattern):
        char = pattern[index]
        following = pattern[index + 1 : index + 2]
        if char == "\\" and following in ("*", "\\"):
            current.append(following)
            index += 2
            continue
        if char == "*":
            pieces.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    pieces.append("".join(current))
    return pieces


def _rule_errors(rule: Any, at: str, *, top_level: bool) -> list[tuple[str, str]]:
    if not isinstance(rule, Mapping):
        return [(at, f"a Choice rule must be a JSON object, got {type_name(rule)}")]
    problems: list[tuple[str, str]] = []
    if not top_level:
        problems += [
            (at, f"{key} is allowed only on a top-level Choice rule")
            for key in rule
            if key in TOP_LEVEL_FIELDS
        ]
    known = OPERATORS | {"Variable"} | TOP_LEVEL_FIELDS | REMARKS
    problems += [
        (at, f"unknown field '{key}' in a Choice rule") for key in rule if key not in known
    ]
    if "Comment" in rule and not isinstance(rule["Comment"], str):
        problems.append((at, f"Comment must be a string, got {type_name(rule['Comment'])}"))
    names = [key for key in rule if key in OPERATORS]
    if not names:
        return [*problems, (at, f"a Choice rule needs one operator, such as {_EXAMPLES}")]
    if len(names) > 1:
        return [*problems, (at, f"a Choice rule has one operator, found {', '.join(names)}")]
    name = names[0]
    if name in COMBINATORS:
        return problems + _combinator_errors(rule, name, at)
    return problems + _comparison_errors(rule, name, at)


_EXAMPLES = "StringEquals, NumericLessThan, IsPresent, And, Or or Not"
_TIME_EXAMPLE = "2016-03-14T01:59:00Z (RFC 3339, upper-case T, explicit offset)"


def _combinator_errors(rule: Mapping[str, Any], name: str, at: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "Variable" in rule:
        problems.append((at, f"a rule with {name} takes no Variable"))
    operand = rule[name]
    if name == "Not":
        return problems + _rule_errors(operand, _join(at, "Not"), top_level=False)
    if not isinstance(operand, list) or not operand:
        return [*problems, (at, f"{name} must be a non-empty array of Choice rules")]
    for index, inner in enumerate(operand):
        problems += _rule_errors(inner, _join(at, f"{name}[{index}]"), top_level=False)
    return problems


def _comparison_errors(rule: Mapping[str, Any], name: str, at: str) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if "Variable" not in rule:
        problems.append((at, f"a rule with {name} needs a Variable"))
    else:
        problems += _path_errors(rule["Variable"], "Variable", at)
    operand = rule[name]
    if name in PATH_COMPARISONS:
        return problems + _path_errors(operand, name, at)
    wanted = _operand_type(name)
    if not _operand_fits(name, operand):
        problems.append((at, f"{name} must be {wanted}, got {type_name(operand)}"))
    elif name.startswith("Timestamp") and _timestamp(operand) is None:
        problems.append((at, f"{name} must be a timestamp like {_TIME_EXAMPLE}, got {operand!r}"))
    return problems


def _path_errors(path: Any, field: str, at: str) -> list[tuple[str, str]]:
    if not isinstance(path, str):
        return [(at, f"{field} must be a path string, got {type_name(path)}")]
    reason = jsonpath.path_error(path)
    if reason is not None:
        return [(at, f"{field} is not a valid path ({path!r}): {reason}")]
    if not jsonpath.is_reference_path(path):
        return [(at, f"{field} must be a reference path naming a single value, got {path!r}")]
    return []


def _operand_type(name: str) -> str:
    if name in TYPE_TESTS or name == "BooleanEquals":
        return "a boolean"
    if name.startswith("Numeric"):
        return "a number"
    return "a string"


def _operand_fits(name: str, operand: Any) -> bool:
    wanted = _operand_type(name)
    if wanted == "a boolean":
        return isinstance(operand, bool)
    if wanted == "a number":
        return is_number(operand)
    return isinstance(operand, str)


def _join(at: str, step: str) -> str:
    return f"{at}.{step}" if at else step
