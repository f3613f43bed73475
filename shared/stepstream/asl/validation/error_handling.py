"""Retry and Catch: retriers, catchers and their ErrorEquals lists."""

from __future__ import annotations

from typing import Any

from stepstream.asl.errors import ALL
from stepstream.asl.validation.context import Run
from stepstream.asl.validation.expressions import (
    check_assign,
    check_jsonata_strings,
    check_result_path,
)
from stepstream.asl.validation.fields import CATCHER_FIELDS, RETRIER_FIELDS
from stepstream.asl.validation.site import Site
from stepstream.asl.validation.values import (
    JSONATA,
    JSONPATH,
    MAX_RETRY_DELAY,
    MAX_SECONDS,
    expect_array,
    expect_int,
    expect_number,
    expect_object,
    expect_one_of,
    expect_string,
)

_RETRIER_INTEGERS = {
    "IntervalSeconds": (1, MAX_SECONDS),
    "MaxAttempts": (0, MAX_SECONDS),
    "MaxDelaySeconds": (1, MAX_RETRY_DELAY),
}


def check_retry(run: Run, site: Site, value: Any, language: str) -> None:
    """Retry: an array of retriers."""
    if not expect_array(site, value):
        return
    for index, retrier in enumerate(value):
        _check_retrier(site.at(index), retrier)
    _check_catch_all_is_last(site, value, "retrier")


def _check_retrier(site: Site, retrier: Any) -> None:
    if not expect_object(site, retrier):
        return
    for key in retrier:
        if key not in RETRIER_FIELDS:
            site.at(key).report(f"unknown field '{key}' in a retrier")
    _check_error_equals_field(site, retrier)
    for key, (low, high) in _RETRIER_INTEGERS.items():
        if key in retrier:
            expect_int(site.at(key), retrier[key], low, high)
    if "BackoffRate" in retrier:
        expect_number(site.at("BackoffRate"), retrier["BackoffRate"], 1.0)
    if "JitterStrategy" in retrier:
        expect_one_of(site.at("JitterStrategy"), retrier["JitterStrategy"], ("FULL", "NONE"))
    if "Comment" in retrier:
        expect_string(site.at("Comment"), retrier["Comment"], non_empty=False)


def check_catch(run: Run, site: Site, value: Any, language: str) -> None:
    """Catch: an array of catchers, each naming the state to go to."""
    if not expect_array(site, value):
        return
    for index, catcher in enumerate(value):
        _check_catcher(site.at(index), catcher, language)
    _check_catch_all_is_last(site, value, "catcher")


def _check_catcher(site: Site, catcher: Any, language: str) -> None:
    if not expect_object(site, catcher):
        return
    other = JSONATA if language == JSONPATH else JSONPATH
    for key in catcher:
        if key in CATCHER_FIELDS[language]:
            continue
        if key in CATCHER_FIELDS[other]:
            site.at(key).report(
                f"field '{key}' in a catcher is {other}-only; this state is {language}"
            )
        else:
            site.at(key).report(f"unknown field '{key}' in a catcher")
    _check_error_equals_field(site, catcher)
    if "Next" not in catcher:
        site.report("required field 'Next' is missing: a catcher must name the state to go to")
    else:
        expect_string(site.at("Next"), catcher["Next"])
    if "ResultPath" in catcher and language == JSONPATH:
        check_result_path(site.at("ResultPath"), catcher["ResultPath"])
    if "Output" in catcher and language == JSONATA:
        check_jsonata_strings(site.at("Output"), catcher["Output"])
    if "Assign" in catcher:
        check_assign(site.at("Assign"), catcher["Assign"], language)
    if "Comment" in catcher:
        expect_string(site.at("Comment"), catcher["Comment"], non_empty=False)


def _check_error_equals_field(site: Site, handler: dict[str, Any]) -> None:
    if "ErrorEquals" not in handler:
        site.report("required field 'ErrorEquals' is missing")
        return
    here = site.at("ErrorEquals")
    names = handler["ErrorEquals"]
    if not expect_array(here, names, non_empty=True):
        return
    for index, name in enumerate(names):
        expect_string(here.at(index), name)
    if ALL in names and len(names) > 1:
        here.report(f"{ALL} must appear alone in ErrorEquals")


def _check_catch_all_is_last(site: Site, handlers: list[Any], noun: str) -> None:
    for index, handler in enumerate(handlers[:-1]):
        names = handler.get("ErrorEquals") if isinstance(handler, dict) else None
        if isinstance(names, list) and ALL in names:
            site.at(index, "ErrorEquals").report(
                f"{ALL} is allowed only in the last {noun}: any {noun} after it could never match"
            )
