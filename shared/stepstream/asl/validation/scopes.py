"""Scopes: the machine itself, Parallel branches and Map processors, each a StartAt and States."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation.context import Run, Scope
from stepstream.asl.validation.fields import BRANCH_FIELDS, MACHINE_FIELDS, PROCESSOR_FIELDS
from stepstream.asl.validation.site import Site, described, render
from stepstream.asl.validation.states import check_state
from stepstream.asl.validation.values import (
    JSONATA,
    JSONPATH,
    MAX_NAME_LENGTH,
    MAX_SECONDS,
    QUERY_LANGUAGES,
    expect_int,
    expect_object,
    expect_one_of,
    expect_string,
)


def check_machine(run: Run, definition: Any) -> None:
    """Check a whole definition: its own fields, then every scope and state in it."""
    site = Site(run.issues)
    if not isinstance(definition, dict):
        site.report(
            f"a state machine definition must be a JSON object, got {described(definition)}"
        )
        return
    language = _scope_language(site, definition, JSONPATH)
    _check_unknown_fields(site, definition, MACHINE_FIELDS, "at the top level of a definition")
    if "Version" in definition:
        expect_one_of(site.at("Version"), definition["Version"], ("1.0",))
    if "TimeoutSeconds" in definition:
        expect_int(site.at("TimeoutSeconds"), definition["TimeoutSeconds"], 1, MAX_SECONDS)
    _check_scope(run, site, definition, language)


def check_branch(run: Run, site: Site, branch: Any, language: str) -> None:
    """One of a Parallel state's Branches: a scope that may set its own QueryLanguage."""
    if not expect_object(site, branch):
        return
    own_language = _scope_language(site, branch, language)
    _check_unknown_fields(site, branch, BRANCH_FIELDS, "in a Parallel branch")
    _check_scope(run, site, branch, own_language)


def check_processor(run: Run, site: Site, processor: Any, language: str) -> None:
    """A Map state's ItemProcessor (or Iterator): a scope run once per item."""
    if not expect_object(site, processor):
        return
    _check_unknown_fields(site, processor, PROCESSOR_FIELDS, "in an ItemProcessor")
    _check_scope(run, site, processor, language)


def _scope_language(site: Site, container: dict[str, Any], inherited: str) -> str:
    if "QueryLanguage" not in container:
        return inherited
    here = site.at("QueryLanguage")
    value = container["QueryLanguage"]
    if not expect_one_of(here, value, QUERY_LANGUAGES):
        return inherited
    if value == JSONPATH and inherited == JSONATA:
        here.report("a JSONPath branch cannot sit in a JSONata state machine")
    return str(value)


def _check_unknown_fields(
    site: Site, container: dict[str, Any], known: frozenset[str], where: str
) -> None:
    for key in container:
        if key not in known:
            site.at(key).report(f"unknown field '{key}' {where}")
    if "Comment" in container:
        expect_string(site.at("Comment"), container["Comment"], non_empty=False)


def _check_scope(run: Run, site: Site, container: dict[str, Any], language: str) -> None:
    start = container.get("StartAt")
    if "StartAt" not in container:
        site.report("required field 'StartAt' is missing")
    elif not expect_string(site.at("StartAt"), start):
        start = None
    if "States" not in container:
        site.report("required field 'States' is missing")
        return
    states = container["States"]
    states_site = site.at("States")
    if not expect_object(states_site, states):
        return
    if not states:
        states_site.report("must hold at least one state")
    for name, body in states.items():
        state_site = states_site.state_named(name)
        _check_name(run, state_site, name)
        check_state(run, state_site, body, language)
    if isinstance(start, str) and start and start not in states:
        site.at("StartAt").report(f"state {start!r} does not exist in States")
    scope_start = start if isinstance(start, str) else None
    run.scopes.append(Scope(states_site, scope_start, dict(states)))


def _check_name(run: Run, site: Site, name: str) -> None:
    if not name:
        site.report("a state name must not be empty")
    elif len(name) > MAX_NAME_LENGTH:
        site.report(f"state name is {len(name)} characters long; at most {MAX_NAME_LENGTH}")
    first = run.names.setdefault(name, site.path)
    if first != site.path:
        site.report(
            f"state name {name!r} is already used at {render(first)}; names must be unique"
            " across the whole machine, branches and Map processors included"
        )
