"""Map states: the item processor and its processing mode."""

from __future__ import annotations

from typing import Any

from stepstream.asl.validation.context import Run
from stepstream.asl.validation.expressions import (
    check_jsonata_strings,
    check_reference_path,
    check_template,
)
from stepstream.asl.validation.fields import DISTRIBUTED_ONLY, NEEDS_S3
from stepstream.asl.validation.site import Site
from stepstream.asl.validation.values import (
    JSONATA,
    JSONPATH,
    expect_int,
    expect_object,
    expect_one_of,
    expect_string,
    is_jsonata,
)

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
        if "ExecutionType" in config:
            expect_one_of(
                site.at("ExecutionType"), config["ExecutionType"], ("STANDARD", "EXPRESS")
            )
    elif "ExecutionType" in config:
        site.at("ExecutionType").report(
            "ExecutionType applies only to a Distributed Map; an INLINE Map runs its"
            " iterations inside this execution"
        )


def is_distributed(state: dict[str, Any]) -> bool:
    """Whether a Map state's processor runs in DISTRIBUTED mode."""
    processor = state.get("ItemProcessor")
    if not isinstance(processor, dict):
        return False
    config = processor.get("ProcessorConfig")
    return isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED"


def check_distributed_fields(site: Site, present: dict[str, Any]) -> None:
    """Label, ItemBatcher, ItemReader, ResultWriter: a Distributed Map's, and S3's."""
    distributed = is_distributed(present)
    for field in DISTRIBUTED_ONLY:
        if field not in present:
            continue
        if not distributed:
            site.at(field).report(
                f"field '{field}' belongs to a Distributed Map; set the ItemProcessor's"
                " ProcessorConfig Mode to DISTRIBUTED to use it"
            )
        elif field in NEEDS_S3:
            site.at(field).report(
                f"field '{field}' {NEEDS_S3[field]}, and there is no S3 here; a Distributed Map"
                " here takes its items from the state input"
                + (" (ItemsPath or Items)" if field == "ItemReader" else "")
            )


# Label: AWS allows up to 40 characters, none of them blank, a bracket, a wildcard or
# punctuation that would break the map run's ARN.
_LABEL_FORBIDDEN = set(' \t\n<>{}[]?*"#%\\^|~`$&,;:/')
MAX_LABEL = 40


def check_label(site: Site, value: Any) -> None:
    if not expect_string(site, value):
        return
    if len(value) > MAX_LABEL:
        site.report(f"must be at most {MAX_LABEL} characters, got {len(value)}")
    bad = sorted({char for char in value if char in _LABEL_FORBIDDEN or ord(char) < 32})
    if bad:
        site.report(f"must not contain {', '.join(repr(char) for char in bad)}")


MAX_BATCH_BYTES = 256 * 1024
_BATCHER_FIELDS = {
    JSONPATH: frozenset(
        {
            "MaxItemsPerBatch",
            "MaxItemsPerBatchPath",
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            "BatchInput",
        }
    ),
    JSONATA: frozenset({"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}),
}


def check_item_batcher(site: Site, value: Any, language: str) -> None:
    """ItemBatcher: how many items, or how many bytes of them, each child gets at once."""
    if not expect_object(site, value):
        return
    for key in value:
        if key not in _BATCHER_FIELDS[language]:
            site.at(key).report(f"field '{key}' is not allowed in an ItemBatcher")
    limits = {
        "MaxItemsPerBatch": (1, 100_000_000),
        "MaxInputBytesPerBatch": (1, MAX_BATCH_BYTES),
    }
    for field, (low, high) in limits.items():
        if field in value and not is_jsonata(value[field]):
            expect_int(site.at(field), value[field], low, high)
        if field in value and f"{field}Path" in value:
            site.at(f"{field}Path").report(f"cannot be used together with {field}; use one of them")
    for field in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
        if field in value:
            check_reference_path(site.at(field), value[field])
    if not any(field in value for field in (*limits, *(f"{f}Path" for f in limits))):
        site.report(
            "an ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch (or its Path form)"
        )
    if "BatchInput" in value:
        if language == JSONPATH:
            check_template(site.at("BatchInput"), value["BatchInput"])
        elif expect_object(site.at("BatchInput"), value["BatchInput"]):
            check_jsonata_strings(site.at("BatchInput"), value["BatchInput"])
