"""Invariant 7: every history replays to the state the orchestrator holds for it."""

from __future__ import annotations

import json

from apps.chaos.audit.outcomes import OrderView
from apps.chaos.audit.verdict import InvariantResult
from apps.chaos.records import Records
from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.machine import load_machine


def histories_replay(records: Records, views: dict[str, list[OrderView]]) -> InvariantResult:
    result = InvariantResult(
        "histories-replay", "every history replays to the status and output the store holds"
    )
    machine = load_machine(records.definition)
    for execution in records.executions:
        result.checked += 1
        try:
            replayed = Execution.from_history(
                machine,
                (HistoryEvent.from_record(event) for event in execution.events),
                execution_arn=execution.arn,
            )
        except Exception as exc:  # any failure to replay is the finding itself
            result.violate([execution.order_id], f"does not replay: {type(exc).__name__}: {exc}")
            continue
        if replayed.status != execution.status:
            result.violate(
                [execution.order_id],
                f"replays to {replayed.status}, the store says {execution.status}",
            )
        elif (
            execution.status == "SUCCEEDED"
            and execution.output is not None
            and replayed.output != json.loads(execution.output)
        ):
            result.violate([execution.order_id], "replays to another output than stored")
    return result
