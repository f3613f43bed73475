"""ASL paths in JSONPath mode: selecting values and placing results, as Step Functions does.

Step Functions evaluates paths with the Jayway JsonPath library, and the rules here are
Jayway's:

* A definite path (only children and single indexes) yields the value itself, or raises
  :class:`PathNotFound` when nothing is there.
* A path with a wildcard, filter, slice, union or ``..`` yields a list of what it found,
  possibly empty. It still raises when a definite step before the first indefinite one
  is missing (``$.missing[*]``), but a miss further on is skipped (``$.items[*].x``
  ignores items without ``x``).
* An index out of range is a miss, a negative index counts from the end.

Paths may start with ``$`` (the data), ``$$`` (the context object) or ``$name`` (a workflow
variable). Parsed paths are cached, and plain paths like ``$.a.b[0]`` take a fast lane.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from typing import Any

from stepstream.asl import errors
from stepstream.asl.errors import StatesError
from stepstream.asl.json_values import compact_json, is_number, type_name
from stepstream.asl.jsonpath_ast import (
    Child,
    Children,
    Descendants,
    Filter,
    Function,
    Index,
    Indexes,
    Path,
    Slice,
    Step,
    Wildcard,
)
from stepstream.asl.jsonpath_filter import matches
from stepstream.asl.jsonpath_syntax import PathSyntaxError, parse_path, step_is_definite

__all__ = [
    "PathNotFound",
    "PathSyntaxError",
    "apply_result_path",
    "compile_path",
    "is_definite_path",
    "is_reference_path",
    "is_valid_path",
    "path_error",
    "select",
    "select_with_context",
]


class PathNotFound(LookupError):
    """A path that matches nothing in the value it was applied to."""

    def __init__(self, path: str, reason: str = "", detail: str = "") -> None:
        said = f": {reason}" if reason else ""
        super().__init__(f"The JSONPath '{path}' could not be found{said}")
        self.path = path
        self.reason = reason
        # What Jayway JsonPath, which Step Functions uses, says about the miss.
        self.detail = detail or f"No results for path: {path}"


def select(path: str, data: Any, *, variables: Mapping[str, Any] | None = None) -> Any:
    """The value ``path`` picks out of ``data``.

    ``$$...`` paths are evaluated against ``data`` too (pass the context object as data,
    or use :func:`select_with_context`); ``$name...`` paths against the variable ``name``.
    The result shares structure with ``data``: treat it as read-only.

    Raises :class:`PathNotFound` when nothing matches, :class:`PathSyntaxError` when
    ``path`` does not parse.
    """
    if path == "$":
        return data
    keys = _PLAIN_PATHS.get(path)
    if keys is None:
        return _select_parsed(parse_path(path), data, variables)
    return _select_keys(path, keys, data)


# Plain data paths ('$.a.b[0]', and '$$...' which select() reads from its data too) by
# text, so the common case skips even the parse cache; bounded, as definitions are.
_PLAIN_PATHS: dict[str, tuple[str | int, ...]] = {}
_PLAIN_PATHS_LIMIT = 4096


def _select_parsed(parsed: Path, data: Any, variables: Mapping[str, Any] | None) -> Any:
    if parsed.root == "variable":
        name = parsed.variable or ""
        if variables is None or name not in variables:
            raise PathNotFound(parsed.text, f"there is no variable named '{name}'")
        return _evaluate(parsed, variables[name])
    if parsed.keys is not None and len(_PLAIN_PATHS) < _PLAIN_PATHS_LIMIT:
        _PLAIN_PATHS[parsed.text] = parsed.keys
    return _evaluate(parsed, data)


def select_with_context(
    path: str, data: Any, context: Any, variables: Mapping[str, Any] | None = None
) -> Any:
    """Like :func:`select`, with ``$$...`` paths read from ``context``."""
    if path.startswith("$$"):
        return select(path, context)
    return select(path, data, variables=variables)


PathSelector = Callable[[Any, Any, "Mapping[str, Any] | None"], Any]


def compile_path(path: str) -> PathSelector:
    """A function ``(data, context, variables) -> value`` for ``path``, made once.

    It behaves as :func:`select_with_context`, raising :class:`PathNotFound` and, for a
    path that does not parse, :class:`PathSyntaxError` when called.
    """
    compiled = _COMPILED_PATHS.get(path)
    if compiled is None:
        compiled = _compile_path(path)
        if len(_COMPILED_PATHS) >= _PLAIN_PATHS_LIMIT:
            _COMPILED_PATHS.clear()
        _COMPILED_PATHS[path] = compiled
    return compiled


_COMPILED_PATHS: dict[str, PathSelector] = {}


def _compile_path(path: str) -> PathSelector:
    if path == "$":
        return lambda data, context, variables: data
    try:
        parsed = parse_path(path)
    except PathSyntaxError:
        return lambda data, context, variables: select_with_context(path, data, context, variables)
    keys = parsed.keys
    if keys is None or parsed.root == "variable":
        return lambda data, context, variables: select_with_context(path, data, context, variables)
    from_context = parsed.root == "context"

    def follow(data: Any, context: Any, variables: Mapping[str, Any] | None) -> Any:
        return _select_keys(path, keys, context if from_context else data)

    return follow


def path_error(path: str) -> str | None:
    """Why ``path`` is not a valid path, or None when it is."""
    if not isinstance(path, str):
        return f"a path must be a string, got {type_name(path)}"
    try:
        parse_path(path)
    except PathSyntaxError as error:
        return error.reason
    return None


def is_valid_path(path: str) -> bool:
    """Whether ``path`` parses as a path (any root: ``$``, ``$$`` or ``$name``)."""
    return path_error(path) is None


def is_definite_path(path: str) -> bool:
    """Whether ``path`` selects at most one value (no wildcard, slice, filter or ``..``)."""
    try:
        return parse_path(path).definite
    except (PathSyntaxError, TypeError):
        return False


def is_reference_path(path: str) -> bool:
    """Whether ``path`` names a single node: only children and single indexes.

    Any root is accepted; a ResultPath must in addition start with ``$.`` or ``$[``
    (or be ``$``), which :func:`apply_result_path` enforces.
    """
    try:
        return parse_path(path).reference
    except (PathSyntaxError, TypeError):
        return False


def apply_result_path(state_input: Any, result: Any, result_path: str | None) -> Any:
    """Place ``result`` into ``state_input`` as ResultPath says.

    None discards the result and returns the input; ``$`` returns the result; any other
    reference path returns a copy of the input with the result set there, creating
    missing objects on the way. Raises ``StatesError(States.ResultPathMatchFailure)``
    when the input cannot hold the result there (it is not an object, a step meets a
    non-object, an index is out of range).

    Only the objects and arrays along the path are copied; the rest is shared with the
    input. The engine never changes a JSON value in place, and copying the whole input
    on every state made a long chain of states cost the square of its length.
    """
    if result_path is None:
        return state_input
    if result_path == "$":
        return result
    keys = _result_path_keys(result_path)
    try:
        return _with_result(state_input, keys, result)
    except LookupError:
        raise StatesError(
            errors.RESULT_PATH_MATCH_FAILURE,
            f"Unable to apply ReferencePath {result_path} to input {compact_json(state_input)}",
        ) from None


def _with_result(node: Any, keys: tuple[str | int, ...], result: Any) -> Any:
    """`node` with `result` at `keys`, copying only the containers on the way."""
    key, rest = keys[0], keys[1:]
    if isinstance(key, str) and isinstance(node, dict):
        copy = dict(node)
        copy[key] = _with_result(node.get(key, {}), rest, result) if rest else result
        return copy
    if isinstance(key, int) and isinstance(node, list) and -len(node) <= key < len(node):
        items = list(node)
        items[key] = _with_result(node[key], rest, result) if rest else result
        return items
    raise LookupError(key)


def _result_path_keys(result_path: str) -> tuple[str | int, ...]:
    try:
        parsed = parse_path(result_path)
    except PathSyntaxError as error:
        raise StatesError(
            errors.RUNTIME, f"ResultPath '{result_path}' is not a valid path: {error.reason}"
        ) from None
    if parsed.root != "data" or parsed.keys is None:
        raise StatesError(
            errors.RUNTIME,
            f"ResultPath '{result_path}' must be a reference path into the state's data "
            "(children and indexes only, starting with '$')",
        )
    return parsed.keys


# -- evaluation --------------------------------------------------------------------------


def _evaluate(path: Path, document: Any) -> Any:
    keys = path.keys
    if keys is not None:
        return _follow(path, keys, document)
    found = _walk(path, document, document)
    if not path.definite:
        return found
    if not found:
        raise PathNotFound(path.text)
    return found[0]


def _select_keys(path: str, keys: tuple[str | int, ...], root: Any) -> Any:
    """The value a path of plain keys picks out of ``root``: the quick walk first."""
    node = root
    try:
        for key in keys:
            if key.__class__ is int and node.__class__ is not list:
                break  # indexing a string would pick a character
            node = node[key]
        else:
            return node
    except (KeyError, IndexError, TypeError):
        pass
    return _follow(path, keys, root)  # the careful walk, which names what is missing


def _follow(path: Path | str, keys: tuple[str | int, ...], node: Any) -> Any:
    text = path if isinstance(path, str) else path.text
    for position, key in enumerate(keys):
        if isinstance(key, str):
            if not isinstance(node, dict) or key not in node:
                raise PathNotFound(text, _miss_reason(key, node), _jayway_miss(keys, position))
            node = node[key]
        elif isinstance(node, list) and -len(node) <= key < len(node):
            node = node[key]
        else:
            raise PathNotFound(text, _miss_reason(key, node), _jayway_miss(keys, position))
    return node


def _jayway_miss(keys: tuple[str | int, ...], position: int) -> str:
    """Jayway's words for a miss at ``keys[position]``: a missing leaf has no results, a
    missing step on the way is a missing property."""
    if position == len(keys) - 1 or isinstance(keys[position], int):
        return f"No results for path: {_normalized(keys)}"
    return f"Missing property in path {_normalized(keys[: position + 1])}"


def _normalized(keys: tuple[str | int, ...]) -> str:
    """A path as Jayway prints it: ``$['a'][0]['b']``."""
    parts = ["$"]
    for key in keys:
        if isinstance(key, int):
            parts.append(f"[{key}]")
        else:
            escaped = key.replace("\\", "\\\\").replace("'", "\\'")
            parts.append(f"['{escaped}']")
    return "".join(parts)


def _miss_reason(key: str | int, node: Any) -> str:
    if isinstance(key, str):
        if isinstance(node, dict):
            return f"no key '{key}'"
        return f"cannot read key '{key}' from {type_name(node)}"
    if isinstance(node, list):
        return f"index {key} is out of range for an array of {len(node)}"
    return f"cannot index {type_name(node)} with [{key}]"


def _walk(path: Path, node: Any, root: Any) -> list[Any]:
    nodes = [node]
    upstream_definite = True
    last = len(path.steps) - 1
    for position, step in enumerate(path.steps):
        if isinstance(step, Function):
            if upstream_definite and not nodes:
                raise PathNotFound(path.text)
            subject = nodes[0] if upstream_definite else nodes
            nodes = [_call(step.name, subject, path)]
            continue
        found: list[Any] = []
        for item in nodes:
            _apply(step, item, found, upstream_definite, position == last, root, path)
        nodes = found
        upstream_definite = upstream_definite and step_is_definite(step, position == last)
    return nodes


def _apply(
    step: Step, node: Any, found: list[Any], strict: bool, last: bool, root: Any, path: Path
) -> None:
    """Add what ``step`` picks from ``node`` to ``found``.

    ``strict`` (every step so far was definite) turns a miss into :class:`PathNotFound`,
    as Jayway does; otherwise a miss is skipped.
    """
    if isinstance(step, Child):
        if isinstance(node, dict) and step.name in node:
            found.append(node[step.name])
        elif strict:
            raise PathNotFound(path.text, _miss_reason(step.name, node))
    elif isinstance(step, Wildcard):
        if isinstance(node, dict):
            found.extend(node.values())
        elif isinstance(node, list):
            found.extend(node)
    elif isinstance(step, Descendants):
        for item in _preorder(node):
            _apply_anywhere(step.target, item, found, last, root, path)
    elif isinstance(node, dict) and isinstance(step, Children):
        picked = {name: node[name] for name in step.names if name in node}
        if last:
            found.append(picked)
        else:
            found.extend(picked.values())
    elif isinstance(node, dict) and isinstance(step, Filter):
        if matches(step.condition, node, root, _resolve):
            found.append(node)
    elif isinstance(node, list) and not isinstance(step, Children):
        _apply_to_array(step, node, found, root)
    elif strict:
        raise PathNotFound(path.text, f"{_describe(step)} cannot be applied to {type_name(node)}")


def _apply_to_array(step: Step, array: list[Any], found: list[Any], root: Any) -> None:
    if isinstance(step, Index):
        if -len(array) <= step.index < len(array):
            found.append(array[step.index])
    elif isinstance(step, Indexes):
        found.extend(array[i] for i in step.indexes if -len(array) <= i < len(array))
    elif isinstance(step, Slice):
        found.extend(array[step.start : step.end])
    elif isinstance(step, Filter):
        found.extend(item for item in array if matches(step.condition, item, root, _resolve))


def _apply_anywhere(
    step: Step, node: Any, found: list[Any], last: bool, root: Any, path: Path
) -> None:
    """A step after ``..``: applied to every node, picking only where it fits."""
    if isinstance(step, Filter):
        # Jayway tests a filter after '..' against each object itself, not array items
        # (those are visited as objects on their own).
        if isinstance(node, dict) and matches(step.condition, node, root, _resolve):
            found.append(node)
    elif not isinstance(step, Children) or (
        isinstance(node, dict) and any(name in node for name in step.names)
    ):
        _apply(step, node, found, False, last, root, path)


def _preorder(node: Any) -> list[Any]:
    """``node`` and every value inside it, parents before children, in document order."""
    ordered: list[Any] = []
    pending = [node]
    while pending:
        item = pending.pop()
        ordered.append(item)
        if isinstance(item, dict):
            pending.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            pending.extend(reversed(item))
    return ordered


def _resolve(path: Path, item: Any, root: Any) -> tuple[bool, Any]:
    """A path inside a filter: ``@`` is the candidate, ``$`` the whole document."""
    base = item if path.root == "current" else root
    try:
        if path.keys is not None:
            return True, _follow(path, path.keys, base)
        found = _walk(path, base, root)
    except PathNotFound:
        return False, None
    if path.definite:
        return (True, found[0]) if found else (False, None)
    return bool(found), found


def _describe(step: Step) -> str:
    if isinstance(step, Index | Indexes | Slice):
        return "an array index or slice"
    if isinstance(step, Filter):
        return "a filter"
    return "a key selection"


def _call(name: str, subject: Any, path: Path) -> Any:
    """Jayway's path functions, applied to what the path before them found."""
    if name in ("length", "size"):
        if isinstance(subject, list | dict | str):
            return len(subject)
    elif name == "keys":
        if isinstance(subject, dict):
            return list(subject)
    elif name in ("first", "last"):
        if isinstance(subject, list) and subject:
            return subject[0] if name == "first" else subject[-1]
    elif isinstance(subject, list):
        numbers = [float(item) for item in subject if is_number(item)]
        if numbers:
            return _aggregate(name, numbers)
    raise PathNotFound(path.text, f"{name}() cannot be applied to {type_name(subject)}")


def _aggregate(name: str, numbers: list[float]) -> float:
    if name == "min":
        return min(numbers)
    if name == "max":
        return max(numbers)
    if name == "sum":
        return sum(numbers)
    if name == "avg":
        return sum(numbers) / len(numbers)
    return statistics.pstdev(numbers)
