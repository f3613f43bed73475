"""Map (inline): runs its item processor once for each item of an array."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stepstream.asl import errors, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path, template
from stepstream.asl.definition import (
    ABSENT,
    QueryLanguage,
    Scope,
    StateDef,
    common_fields,
    parse_scope,
)
from stepstream.asl.errors import StatesError
from stepstream.asl.states.outcomes import Outcome, RunItems


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(StateDef):
    processor: Scope
    items_path: str = "$"
    items: Any = ABSENT
    item_selector: Any = ABSENT
    max_concurrency: Any = 0
    max_concurrency_path: str | None = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: str | None = None


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> MapState:
    processor = raw.get("ItemProcessor") or raw["Iterator"]
    fields = common_fields(name, raw, language)
    # Before ItemSelector existed, Map's Parameters did its job, per item.
    selector = raw.get("ItemSelector", fields.pop("parameters"))
    return MapState(
        **fields,
        parameters=ABSENT,
        processor=parse_scope(processor, processor.get("QueryLanguage", language)),
        items_path=raw.get("ItemsPath", "$"),
        items=raw.get("Items", ABSENT),
        item_selector=selector,
        max_concurrency=raw.get("MaxConcurrency", 0),
        max_concurrency_path=raw.get("MaxConcurrencyPath"),
        tolerated_failure_count=raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=raw.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=raw.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=raw.get("ToleratedFailurePercentagePath"),
    )


def _number(value: Any, path: str | None, data: Any, raw: Any, env: Env, field: str) -> Any:
    if path is not None:
        value = select_path(path, data, env, field)
    elif jsonata_expr.is_expression(value):
        value = jsonata(value, env, input=raw)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise StatesError(errors.RUNTIME, f"{field} must be a non-negative number, got {value!r}")
    return value


def _items(state: MapState, raw: Any, data: Any, env: Env) -> list[Any]:
    if state.is_jsonata:
        items = raw if state.items is ABSENT else jsonata(state.items, env, input=raw)
        field = "Items"
    else:
        items = select_path(state.items_path, data, env, "ItemsPath")
        field = "ItemsPath"
    if not isinstance(items, list):
        raise StatesError(
            errors.RUNTIME if not state.is_jsonata else errors.QUERY_EVALUATION_ERROR,
            f"The {field} field of Map state '{state.name}' must select an array, "
            f"got {type(items).__name__}",
        )
    return items


def step(state: MapState, raw: Any, env: Env) -> Outcome:
    data = raw if state.is_jsonata else select_path(state.input_path, raw, env, "InputPath")
    items = _items(state, raw, data, env)
    concurrency = _number(
        state.max_concurrency, state.max_concurrency_path, data, raw, env, "MaxConcurrency"
    )
    count = _number(
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        data,
        raw,
        env,
        "ToleratedFailureCount",
    )
    percentage = _number(
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        data,
        raw,
        env,
        "ToleratedFailurePercentage",
    )
    if percentage is not None and percentage > 100:
        raise StatesError(
            errors.RUNTIME, f"ToleratedFailurePercentage must be at most 100, got {percentage}"
        )
    return RunItems(tuple(items), int(concurrency or 0), count, percentage)


def item_input(state: MapState, raw: Any, index: int, value: Any, env: Env) -> Any:
    """What iteration `index` gets: the item, or what ItemSelector builds from it."""
    if state.item_selector is ABSENT:
        return value
    context = {**env.context, "Map": {"Item": {"Index": index, "Value": value}}}
    item_env = Env(context=context, variables=env.variables, entropy=env.entropy, now=env.now)
    if state.is_jsonata:
        return jsonata(state.item_selector, item_env, input=raw)
    data = select_path(state.input_path, raw, env, "InputPath")
    return template(state.item_selector, data, item_env)
