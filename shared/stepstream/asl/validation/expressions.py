"""Checks of the expressions embedded in a definition: paths, templates, JSONata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stepstream.asl.validation import syntax
from stepstream.asl.validation.site import Issues, Raw, Site, shown
from stepstream.asl.validation.values import (
    JSONPATH,
    expect_object,
    expect_string,
    is_jsonata,
    variable_name_error,
)


def suffix(location: str) -> tuple[Raw, ...]:
    """A checker's location inside a value, as a path suffix ('' means the value itself)."""
    text = location[1:] if location.startswith("$") else location
    if not text:
        return ()
    return (Raw(text if text.startswith((".", "[")) else f".{text}"),)


def _valid_path(site: Site, value: str) -> bool:
    error = syntax.path_error(value)
    if error is not None:
        site.report(f"{shown(value)} is not a valid path: {error}")
        return False
    return True


def check_path(site: Site, value: Any) -> None:
    """InputPath and OutputPath: null, or any path."""
    if value is not None and expect_string(site, value):
        _valid_path(site, value)


def check_reference_path(site: Site, value: Any) -> None:
    """A *Path field: a path that names exactly one node."""
    if (
        expect_string(site, value)
        and _valid_path(site, value)
        and not syntax.is_reference_path(value)
    ):
        site.report(
            f"{shown(value)} must be a reference path naming one node "
            "(no wildcards, filters, slices or unions)"
        )


def check_result_path(site: Site, value: Any) -> None:
    """ResultPath: null, or a reference path into the state's own data."""
    if value is None or not expect_string(site, value):
        return
    if not (value == "$" or value.startswith(("$.", "$["))):
        site.report(
            f"{shown(value)} must be a reference path into the state's data, starting with '$'"
            " (not the context object '$$' or a variable)"
        )
        return
    check_reference_path(site, value)


def check_path_or_intrinsic(site: Site, value: Any) -> None:
    """ErrorPath, CausePath, RoleArnPath: a reference path or an intrinsic function."""
    if not expect_string(site, value):
        return
    if value.startswith("States."):
        for _, message in syntax.template_errors({"value.$": value}):
            site.report(message)
    else:
        check_reference_path(site, value)


def check_template(site: Site, value: Any) -> None:
    """Parameters, ResultSelector, ItemSelector in JSONPath: an object with '.$' keys."""
    if expect_object(site, value):
        _report_template(site, value)


def _report_template(site: Site, value: Any) -> None:
    for location, message in syntax.template_errors(value):
        site.at(*suffix(location)).report(message)


def check_expression(site: Site, text: str) -> None:
    """A whole ``{% ... %}`` string: its expression must parse."""
    error = syntax.expression_error(text)
    if error is not None:
        site.report(error)


def check_jsonata_strings(site: Site, value: Any) -> None:
    """Every ``{% ... %}`` string anywhere inside ``value`` must parse."""
    pending: list[tuple[Site, Any]] = [(site, value)]
    while pending:
        here, item = pending.pop()
        if is_jsonata(item):
            check_expression(here, item)
        elif isinstance(item, dict):
            pending.extend((here.at(str(key)), child) for key, child in item.items())
        elif isinstance(item, list):
            pending.extend((here.at(index), child) for index, child in enumerate(item))


def jsonata_or(literal: Callable[[Site, Any], object]) -> Callable[[Site, Any], None]:
    """A check that takes either a JSONata expression or a literal judged by ``literal``."""

    def check(site: Site, value: Any) -> None:
        if is_jsonata(value):
            check_expression(site, value)
            return
        scratch = Issues()
        literal(Site(scratch, site.path, site.state), value)
        for path, state, message in scratch.found:
            wanted, got, actual = message.partition(", got ")
            if got:  # "must be X, got Y" becomes "must be X or an expression, got Y"
                message = f"{wanted} or a JSONata expression '{{% ... %}}'{got}{actual}"
            site.issues.add(path, state, message)

    return check


def check_assign(site: Site, value: Any, language: str) -> None:
    """Assign: an object whose keys name variables."""
    if not expect_object(site, value):
        return
    for key in value:
        name = key[:-2] if language == JSONPATH and key.endswith(".$") else key
        error = variable_name_error(name)
        if error is not None:
            site.at(key).report(error)
    if language == JSONPATH:
        _report_template(site, value)
    else:
        check_jsonata_strings(site, value)


def check_jsonata_object(site: Site, value: Any) -> None:
    """Arguments or a JSONata ItemSelector: an object (or one expression) of JSONata values."""
    if is_jsonata(value):
        check_expression(site, value)
    elif expect_object(site, value):
        check_jsonata_strings(site, value)
