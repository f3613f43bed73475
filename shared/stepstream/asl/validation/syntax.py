"""The syntax of embedded expressions, as the engine's own parsers judge it.

One function per kind of expression, so validation and the engine agree on what is valid.
Each answer is guarded: a checker that crashes on odd input becomes a reported problem,
because validation must never raise.
"""

from __future__ import annotations

from typing import Any

from stepstream.asl import choice_rules, jsonata_expr, jsonpath, payload


def _crashed(kind: str, error: Exception) -> str:
    return f"could not check this {kind}: the checker failed with {type(error).__name__}: {error}"


def path_error(path: str) -> str | None:
    """Why ``path`` is not a valid JSONPath path, or None when it is."""
    try:
        return jsonpath.path_error(path)
    except Exception as error:
        return _crashed("path", error)


def is_reference_path(path: str) -> bool:
    """Whether ``path`` names a single node (no wildcards, filters, slices or unions)."""
    try:
        return jsonpath.is_reference_path(path)
    except Exception:
        return False


def template_errors(template: Any) -> list[tuple[str, str]]:
    """(location inside the template, message) for each bad ``.$`` key or intrinsic."""
    try:
        return payload.template_errors(template)
    except Exception as error:
        return [("", _crashed("template", error))]


def rule_errors(rule: Any) -> list[tuple[str, str]]:
    """(location inside the rule, message) for each problem in a JSONPath Choice rule."""
    try:
        return choice_rules.rule_errors(rule)
    except Exception as error:
        return [("", _crashed("Choice rule", error))]


def expression_error(text: str) -> str | None:
    """Why the JSONata expression ``text`` (``{% ... %}`` or bare) is unusable, or None."""
    try:
        return jsonata_expr.expression_error(text)
    except Exception as error:
        return _crashed("JSONata expression", error)
