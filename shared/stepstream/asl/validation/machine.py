"""Validating a definition as a whole, and loading one from JSON text."""

from __future__ import annotations

import json
import math
from typing import Any

from stepstream.asl.validation.context import Run
from stepstream.asl.validation.errors import DefinitionError, InvalidDefinition
from stepstream.asl.validation.graph import check_graph
from stepstream.asl.validation.scopes import check_branch, check_machine, check_processor
from stepstream.asl.validation.site import Issues, Site, described


def validate(definition: Any) -> list[DefinitionError]:
    """Every problem in ``definition``, sorted by location; an empty list when it is valid.

    Never raises: whatever the input, even one that is not an object, the answer is a list.
    """
    issues = Issues()
    _collect(issues, definition)
    return issues.errors()


def check(definition: Any) -> None:
    """Raise InvalidDefinition, carrying every problem, unless ``definition`` is valid."""
    errors = validate(definition)
    if errors:
        raise InvalidDefinition(errors)


def load_definition(text: str) -> dict[str, Any]:
    """Parse a definition from JSON text and check it.

    A JSON syntax error becomes an InvalidDefinition naming its line and column. Keys
    given twice in one object are reported too, since JSON parsers silently keep the last.
    """
    try:
        parsed = json.loads(text, object_pairs_hook=_KeyedObject, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        message = f"not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        raise InvalidDefinition([DefinitionError("$", None, message)]) from None
    except (_NotJson, RecursionError) as error:
        message = f"not valid JSON: {error}" if isinstance(error, _NotJson) else "nested too deeply"
        raise InvalidDefinition([DefinitionError("$", None, message)]) from None
    issues = Issues()
    definition = _collect(issues, parsed)
    if issues.found or not isinstance(definition, dict):
        raise InvalidDefinition(issues.errors())
    return definition


def _collect(issues: Issues, definition: Any) -> Any:
    """Check ``definition`` into ``issues``; return it as plain JSON data."""
    run = Run(issues, check_branch=check_branch, check_processor=check_processor)
    try:
        plain = _plain(definition, Site(issues), set())
        check_machine(run, plain)
        for scope in run.scopes:
            check_graph(run, scope)
    except RecursionError:
        Site(issues).report("the definition is nested too deeply to check")
        return None
    return plain


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


class _KeyedObject(dict[str, Any]):
    """A parsed JSON object that remembers the keys it was given more than once."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        seen: set[str] = set()
        self.repeated: list[str] = []
        for key, _ in pairs:
            if key in seen and key not in self.repeated:
                self.repeated.append(key)
            seen.add(key)


def _plain(value: Any, site: Site, enclosing: set[int]) -> Any:
    """A copy of ``value`` as plain JSON data: dicts with string keys, lists.

    Reports what JSON cannot hold or a parser hides: keys given twice, keys that are not
    strings, and (from Python callers) a value that contains itself.
    """
    if not isinstance(value, dict | list | tuple):
        if not _is_json_scalar(value):
            site.report(f"not a JSON value: {described(value)}")
            return None
        return value
    if id(value) in enclosing:
        site.report("this value contains itself; a definition must be a tree of JSON values")
        return None
    enclosing.add(id(value))
    try:
        if not isinstance(value, dict):
            return [_plain(item, site.at(index), enclosing) for index, item in enumerate(value)]
        return _plain_object(value, site, enclosing)
    finally:
        enclosing.discard(id(value))


def _is_json_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, bool | int | str)


def _plain_object(value: dict[Any, Any], site: Site, enclosing: set[int]) -> dict[str, Any]:
    holds_states = bool(site.path) and site.path[-1] == "States"
    for key in value.repeated if isinstance(value, _KeyedObject) else ():
        if holds_states:
            site.state_named(key).report(f"state {key!r} is defined more than once in States")
        else:
            site.at(key).report(f"field {key!r} is given more than once; JSON keeps only the last")
    plain: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            site.report(f"object keys must be strings, got {described(key)}")
            continue
        child = site.state_named(key) if holds_states else site.at(key)
        plain[key] = _plain(item, child, enclosing)
    return plain
