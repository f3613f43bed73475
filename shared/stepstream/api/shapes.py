"""Index rows and events in the shape the AWS CLI prints them (camelCase, JSON text)."""

from __future__ import annotations

from typing import Any

from stepstream import arns
from stepstream.store.records import ExecutionRecord, StateMachineRecord


def execution_summary(record: ExecutionRecord) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "executionArn": record.execution_arn,
        "stateMachineArn": arns.state_machine_arn(record.state_machine_name),
        "name": record.name,
        "status": str(record.status),
        "startDate": record.start_date.isoformat(),
    }
    if record.stop_date is not None:
        summary["stopDate"] = record.stop_date.isoformat()
    summary["redriveCount"] = record.redrive_count
    if record.redrive_date is not None:
        summary["redriveDate"] = record.redrive_date.isoformat()
    return summary


def execution_description(record: ExecutionRecord) -> dict[str, Any]:
    described = execution_summary(record)
    described["input"] = record.input
    described["stateMachineVersionArn"] = (
        f"{described['stateMachineArn']}:{record.state_machine_version}"
    )
    for key, value in (("output", record.output), ("error", record.error), ("cause", record.cause)):
        if value is not None:
            described[key] = value
    return described


def state_machine_description(record: StateMachineRecord) -> dict[str, Any]:
    return {
        "stateMachineArn": arns.state_machine_arn(record.name),
        "name": record.name,
        "revisionId": str(record.version),
        "creationDate": record.created_at.isoformat(),
        "definition": record.definition,
        "bindings": record.bindings,
    }
