"""How each state field's value is checked, by field name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from stepstream.asl.validation.choice import check_choices
from stepstream.asl.validation.context import Run
from stepstream.asl.validation.error_handling import check_catch, check_retry
from stepstream.asl.validation.expressions import (
    check_assign,
    check_jsonata_object,
    check_jsonata_strings,
    check_path,
    check_path_or_intrinsic,
    check_reference_path,
    check_result_path,
    check_template,
    jsonata_or,
)
from stepstream.asl.validation.map_state import (
    check_item_batcher,
    check_item_processor,
    check_label,
)
from stepstream.asl.validation.site import Site
from stepstream.asl.validation.values import (
    JSONPATH,
    MAX_SECONDS,
    arn_error,
    expect_array,
    expect_bool,
    expect_int,
    expect_number,
    expect_object,
    expect_string,
    timestamp_error,
)


class FieldCheck(Protocol):
    def __call__(self, run: Run, site: Site, value: Any, language: str) -> None: ...


ValueCheck = Callable[[Site, Any], object]


def _plain(check: ValueCheck) -> FieldCheck:
    def field_check(run: Run, site: Site, value: Any, language: str) -> None:
        check(site, value)

    return field_check


def _per_language(jsonpath: ValueCheck, jsonata: ValueCheck) -> FieldCheck:
    def field_check(run: Run, site: Site, value: Any, language: str) -> None:
        (jsonpath if language == JSONPATH else jsonata)(site, value)

    return field_check


def _literal_or_expression(check: ValueCheck) -> FieldCheck:
    """A field that takes a literal, or in JSONata states also a ``{% %}`` expression."""
    return _per_language(check, jsonata_or(check))


def _check_literal_or_expression(site: Site, value: Any, language: str, check: ValueCheck) -> None:
    (check if language == JSONPATH else jsonata_or(check))(site, value)


def _integer(low: int, high: int = MAX_SECONDS) -> ValueCheck:
    return lambda site, value: expect_int(site, value, low, high)


def _string(site: Site, value: Any) -> None:
    expect_string(site, value)


def _comment(site: Site, value: Any) -> None:
    expect_string(site, value, non_empty=False)


def _timestamp(site: Site, value: Any) -> None:
    if expect_string(site, value):
        error = timestamp_error(value)
        if error is not None:
            site.report(error)


def _resource(site: Site, value: Any) -> None:
    if expect_string(site, value):
        error = arn_error(value)
        if error is not None:
            site.report(error)


def _percentage(site: Site, value: Any) -> None:
    expect_number(site, value, 0, 100)


def _items(site: Site, value: Any) -> None:
    if expect_array(site, value):
        check_jsonata_strings(site, value)


def _jsonata_item_selector(site: Site, value: Any) -> None:
    if expect_object(site, value):
        check_jsonata_strings(site, value)


def _assign(run: Run, site: Site, value: Any, language: str) -> None:
    check_assign(site, value, language)


def _credentials(run: Run, site: Site, value: Any, language: str) -> None:
    if not expect_object(site, value):
        return
    keys = {"RoleArn", "RoleArnPath"} if language == JSONPATH else {"RoleArn"}
    for key in value:
        if key not in keys:
            site.at(key).report(f"field '{key}' is not allowed in Credentials")
    present = [key for key in ("RoleArn", "RoleArnPath") if key in value and key in keys]
    if len(present) != 1:
        choices = " or ".join(sorted(keys))
        site.report(f"Credentials needs exactly one of {choices}, found {len(present)}")
    if "RoleArn" in value:
        _check_literal_or_expression(site.at("RoleArn"), value["RoleArn"], language, _resource)
    if "RoleArnPath" in value and language == JSONPATH:
        check_path_or_intrinsic(site.at("RoleArnPath"), value["RoleArnPath"])


def _batcher(run: Run, site: Site, value: Any, language: str) -> None:
    check_item_batcher(site, value, language)


def _branches(run: Run, site: Site, value: Any, language: str) -> None:
    if expect_array(site, value, non_empty=True):
        for index, branch in enumerate(value):
            run.check_branch(run, site.at(index), branch, language)


FIELD_CHECKS: dict[str, FieldCheck] = {
    "Comment": _plain(_comment),
    "Next": _plain(_string),
    "End": _plain(expect_bool),
    "InputPath": _plain(check_path),
    "OutputPath": _plain(check_path),
    "ResultPath": _plain(check_result_path),
    "Parameters": _plain(check_template),
    "ResultSelector": _plain(check_template),
    "ItemSelector": _per_language(check_template, _jsonata_item_selector),
    "Arguments": _plain(check_jsonata_object),
    "Output": _plain(check_jsonata_strings),
    "Assign": _assign,
    "Resource": _plain(_resource),
    "Credentials": _credentials,
    "TimeoutSeconds": _literal_or_expression(_integer(1)),
    "HeartbeatSeconds": _literal_or_expression(_integer(1)),
    "Seconds": _literal_or_expression(_integer(0)),
    "Timestamp": _literal_or_expression(_timestamp),
    "Error": _literal_or_expression(_string),
    "Cause": _literal_or_expression(_string),
    "ErrorPath": _plain(check_path_or_intrinsic),
    "CausePath": _plain(check_path_or_intrinsic),
    "Items": _plain(jsonata_or(_items)),
    "MaxConcurrency": _literal_or_expression(_integer(0)),
    "ToleratedFailureCount": _literal_or_expression(_integer(0)),
    "ToleratedFailurePercentage": _literal_or_expression(_percentage),
    "Retry": check_retry,
    "Catch": check_catch,
    "Choices": check_choices,
    "Default": _plain(_string),
    "Branches": _branches,
    "ItemProcessor": check_item_processor,
    "Iterator": check_item_processor,
    "Label": _plain(check_label),
    "ItemBatcher": _batcher,
}
for _path_field in (
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ItemsPath",
    "MaxConcurrencyPath",
    "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath",
):
    FIELD_CHECKS[_path_field] = _plain(check_reference_path)
