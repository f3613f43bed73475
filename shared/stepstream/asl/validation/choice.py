"""Choice states: their rules, JSONPath comparisons or JSONata conditions."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation import syntax
from stepstream.asl.validation.context import Run
from stepstream.asl.validation.expressions import (
    check_assign,
    check_expression,
    check_jsonata_strings,
    suffix,
)
from stepstream.asl.validation.fields import CHOICE_RULE_FIELDS_JSONATA
from stepstream.asl.validation.site import Site, described
from stepstream.asl.validation.values import (
    JSONPATH,
    expect_array,
    expect_object,
    expect_string,
    is_jsonata,
)

# Fields of a top-level rule that are about where to go, not what to compare.
_ROUTING = ("Next", "Assign", "Output", "Comment")


def check_choices(run: Run, site: Site, value: Any, language: str) -> None:
    """Choices: a non-empty array of rules, each with a Next."""
    if not expect_array(site, value, non_empty=True):
        return
    for index, rule in enumerate(value):
        here = site.at(index)
        if not expect_object(here, rule):
            continue
        _check_routing(here, rule, language)
        if language == JSONPATH:
            _check_jsonpath_rule(here, rule)
        else:
            _check_jsonata_rule(here, rule)


def _check_routing(site: Site, rule: dict[str, Any], language: str) -> None:
    if "Next" not in rule:
        site.report("required field 'Next' is missing: a Choice rule must name the state to go to")
    else:
        expect_string(site.at("Next"), rule["Next"])
    if "Assign" in rule:
        check_assign(site.at("Assign"), rule["Assign"], language)
    if "Comment" in rule:
        expect_string(site.at("Comment"), rule["Comment"], non_empty=False)


def _check_jsonpath_rule(site: Site, rule: dict[str, Any]) -> None:
    for key in ("Condition", "Output"):
        if key in rule:
            site.at(key).report(
                f"field '{key}' is JSONata-only; a JSONPath Choice rule compares a Variable"
                " (set QueryLanguage to JSONata to use it)"
            )
    if "Condition" in rule:
        return  # a JSONata rule in a JSONPath state: its comparison errors would only add noise
    comparison = {key: value for key, value in rule.items() if key not in _ROUTING}
    for location, message in syntax.rule_errors(comparison):
        site.at(*suffix(location)).report(message)


def _check_jsonata_rule(site: Site, rule: dict[str, Any]) -> None:
    for key in rule:
        if key in CHOICE_RULE_FIELDS_JSONATA:
            continue
        if key == "Variable":
            site.at(key).report(
                "field 'Variable' is JSONPath-only; a JSONata Choice rule tests a Condition"
            )
        else:
            site.at(key).report(
                f"field '{key}' is not allowed in a JSONata Choice rule"
                " (it takes Condition, Next, Assign, Output and Comment)"
            )
    if "Output" in rule:
        check_jsonata_strings(site.at("Output"), rule["Output"])
    if "Condition" not in rule:
        site.report("required field 'Condition' is missing: a JSONata Choice rule tests one")
        return
    condition = rule["Condition"]
    if is_jsonata(condition):
        check_expression(site.at("Condition"), condition)
    elif not isinstance(condition, bool):
        site.at("Condition").report(
            f"must be true, false or a JSONata expression '{{% ... %}}', got {described(condition)}"
        )
