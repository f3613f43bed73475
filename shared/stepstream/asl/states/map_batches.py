"""A Distributed Map's own parts: its ItemBatcher and the map run its children count as.

Here a Distributed Map takes its items from the state input (ItemReader and ResultWriter
need S3, which validation refuses) and runs each child in this execution, as an inline
Map would; what it adds is batching (each child gets ``{"Items": [...], "BatchInput":
...}``) and the map run, recorded as MapRunStarted / MapRunSucceeded / MapRunFailed with
the run's ARN, named after the state's Label.
"""

from __future__ import annotations

from typing import Any

from stepstream.asl import errors, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path, template
from stepstream.asl.definition import ABSENT, StateDef
from stepstream.asl.errors import StatesError
from stepstream.asl.json_values import compact_json
from stepstream.asl.limits import payload_size


def batch_starts(batcher: Any, items: list[Any], data: Any, raw: Any, env: Env) -> tuple[int, ...]:
    """Where each batch starts: at most MaxItemsPerBatch items and MaxInputBytesPerBatch
    bytes (of the items as compact JSON) in each, items kept in order."""
    max_items = _limit(batcher, "MaxItemsPerBatch", data, raw, env)
    max_bytes = _limit(batcher, "MaxInputBytesPerBatch", data, raw, env)
    starts: list[int] = []
    count = size = 0
    for index, item in enumerate(items):
        item_size = payload_size(item) + 1  # and its comma
        full = starts and (
            (max_items is not None and count >= max_items)
            or (max_bytes is not None and size + item_size > max_bytes)
        )
        if not starts or full:
            starts.append(index)
            count = size = 0
        count += 1
        size += item_size
    return tuple(starts)


def batch_input(state: StateDef, batcher: Any, data: Any, raw: Any, env: Env) -> Any:
    """The BatchInput every batch carries (ABSENT when there is none)."""
    value = batcher.get("BatchInput", ABSENT)
    if value is ABSENT:
        return ABSENT
    if state.is_jsonata:
        return jsonata(value, env, "ItemBatcher/BatchInput", input=raw)
    return template(value, data, env)


def batch(items: list[Any], extra: Any) -> dict[str, Any]:
    """What one child of a batching Map gets."""
    return {"Items": items} if extra is ABSENT else {"Items": items, "BatchInput": extra}


def map_run_arn(state_machine_arn: str, label: str, run_id: str) -> str:
    """arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/LABEL:RUN-ID, as AWS names map runs."""
    return f"{state_machine_arn.replace(':stateMachine:', ':mapRun:', 1)}/{label}:{run_id}"


def _limit(batcher: Any, field: str, data: Any, raw: Any, env: Env) -> int | None:
    path = batcher.get(f"{field}Path")
    if path is not None:
        value = select_path(path, data, env, f"{field}Path")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            shown = value if isinstance(value, str) else compact_json(value)
            raise StatesError(
                errors.RUNTIME,
                f'The {field}Path field refers to value "{shown}" which is not a valid '
                f"positive integer: {path}",
            )
        return value
    value = batcher.get(field)
    if jsonata_expr.is_expression(value):
        value = jsonata(value, env, f"ItemBatcher/{field}", input=raw)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                f"The ItemBatcher/{field} field must be a positive integer, "
                f"got {compact_json(value)}",
            )
    return value if isinstance(value, int) else None
