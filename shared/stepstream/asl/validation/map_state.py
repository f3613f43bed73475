"""Map states: the item processor and its processing mode."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation.context import Run
from stepstream.asl.validation.site import Site
from stepstream.asl.validation.values import expect_object, expect_one_of

_CONFIG_FIELDS = frozenset({"Mode", "ExecutionType"})


def check_item_processor(run: Run, site: Site, value: Any, language: str) -> None:
    """ItemProcessor (or the older Iterator): an inline scope of its own."""
    if not expect_object(site, value):
        return
    if "ProcessorConfig" in value:
        _check_processor_config(site.at("ProcessorConfig"), value["ProcessorConfig"])
    run.check_processor(run, site, value, language)


def _check_processor_config(site: Site, config: Any) -> None:
    if not expect_object(site, config):
        return
    for key in config:
        if key not in _CONFIG_FIELDS:
            site.at(key).report(f"unknown field '{key}' in ProcessorConfig")
    mode = config.get("Mode", "INLINE")
    if "Mode" in config and not expect_one_of(site.at("Mode"), mode, ("INLINE", "DISTRIBUTED")):
        return
    if mode == "DISTRIBUTED":
        site.at("Mode").report(
            "DISTRIBUTED mode is not supported here: a Distributed Map reads its items from"
            " and writes its results to S3; use Mode INLINE"
        )
    elif "ExecutionType" in config:
        site.at("ExecutionType").report(
            "ExecutionType applies only to a Distributed Map; an INLINE Map runs its"
            " iterations inside this execution"
        )
