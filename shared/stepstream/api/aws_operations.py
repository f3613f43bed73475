"""The Step Functions API by operation name, with AWS's request and answer shapes.

One implementation for every way in: the HTTP endpoint (awsJson1.0) decodes a request
and calls ``StepFunctionsApi.call``; the command line's verbs build the same request
from their arguments and call the same. Both get the same checks (the service model's
input shape first, then the library's own) and the same errors.

Answers keep dates as ISO text, which the command line prints; the HTTP layer writes
them in the wire's form through ``aws_model.encode_output``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from stepstream import arns
from stepstream.api import aws_model
from stepstream.api.aws_arns import execution_ref, machine_ref
from stepstream.api.aws_bindings import bindings_for, tagged_bindings
from stepstream.api.aws_pages import page
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.asl.machine import load_machine
from stepstream.asl.validation import InvalidDefinition
from stepstream.bindings import Bindings
from stepstream.store.records import StateMachineRecord

# The role every state machine reports: stepstream runs its tasks itself and keeps none.
DEFAULT_ROLE_ARN = "arn:aws:iam::000000000000:role/stepstream"
MACHINE_TYPE = "STANDARD"

Handler = Callable[["StepFunctionsApi", dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS: dict[str, Handler] = {}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        OPERATIONS[name] = handler
        return handler

    return register


def _not_served(name: str) -> ApiError:
    return ApiError("UnknownOperationException", f"Operation {name} is not supported.")


class StepFunctionsApi:
    """The API's operations over one ``StepStreamClient``.

    ``configured_bindings`` are the bindings file's, by state machine name (see
    ``aws_bindings``).
    """

    def __init__(
        self,
        client: StepStreamClient,
        *,
        configured_bindings: Mapping[str, Bindings] | None = None,
        explicit_bindings: str | None = None,
    ) -> None:
        self.client = client
        self.configured_bindings = dict(configured_bindings or {})
        # Bindings given outright (the command line's --bindings): they replace the layers.
        self.explicit_bindings = explicit_bindings

    async def call(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """Run operation ``name`` on ``params`` (its AWS input); its AWS output, dates as text."""
        aws_model.operation_model(name)  # UnknownOperationException before anything else
        handler = OPERATIONS.get(name)
        if handler is None:
            raise _not_served(name)
        aws_model.check_input(name, params)
        return await handler(self, params)

    async def find_machine(self, given: str) -> StateMachineRecord:
        """The version an ARN names (the latest for a plain ARN); StateMachineDoesNotExist."""
        name, version = machine_ref(given)
        store = self.client.store
        record = await store.get_state_machine(name, version)
        # A deleted machine's versions are kept for its executions only.
        if record is None or (version is not None and await store.get_state_machine(name) is None):
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{given}'")
        return record


# -- state machines ------------------------------------------------------------------------


@operation("CreateStateMachine")
async def create_state_machine(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    name, definition = p["name"], p["definition"]
    if p.get("type", MACHINE_TYPE) != MACHINE_TYPE:
        raise ApiError(
            "StateMachineTypeNotSupported", f"State machine type {p['type']} is not supported"
        )
    existing = await api.client.store.get_state_machine(name)
    if existing is not None and _differs(existing.definition, definition):
        raise ApiError(
            "StateMachineAlreadyExists",
            f"State Machine Already Exists: '{arns.state_machine_arn(name)}'",
        )
    bindings = api.explicit_bindings or bindings_for(
        name,
        definition,
        configured=api.configured_bindings,
        tagged=tagged_bindings(p.get("tags")),
        previous=existing.bindings if existing is not None else None,
    )
    return await api.client.create_state_machine(name, definition, bindings)


def _differs(stored: str, given: str) -> bool:
    try:
        return bool(json.loads(stored) != json.loads(given))
    except json.JSONDecodeError:
        return True


@operation("UpdateStateMachine")
async def update_state_machine(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    latest = await api.find_machine(p["stateMachineArn"])
    if not any(p.get(k) for k in ("definition", "roleArn", "loggingConfiguration")) and not (
        p.get("tracingConfiguration") or api.explicit_bindings
    ):
        raise ApiError(
            "MissingRequiredParameter",
            "Either the definition, the roleArn, the loggingConfiguration or the "
            "tracingConfiguration must be specified",
        )
    definition = p.get("definition") or latest.definition
    bindings = api.explicit_bindings or bindings_for(
        latest.name, definition, configured=api.configured_bindings, previous=latest.bindings
    )
    created = await api.client.create_state_machine(latest.name, definition, bindings)
    version_arn = created["stateMachineVersionArn"]
    return {
        "updateDate": created["creationDate"],
        "revisionId": version_arn.rsplit(":", 1)[1],
        "stateMachineVersionArn": version_arn,
    }


@operation("DescribeStateMachine")
async def describe_state_machine(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    record = await api.find_machine(p["stateMachineArn"])
    return {
        "stateMachineArn": arns.state_machine_arn(record.name),
        "name": record.name,
        "status": "ACTIVE",
        "definition": record.definition,
        "roleArn": DEFAULT_ROLE_ARN,
        "type": MACHINE_TYPE,
        "creationDate": record.created_at.isoformat(),
        "revisionId": str(record.version),
        "bindings": record.bindings,
    }


@operation("ListStateMachines")
async def list_state_machines(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    machines = [
        {
            "stateMachineArn": arns.state_machine_arn(record.name),
            "name": record.name,
            "type": MACHINE_TYPE,
            "creationDate": record.created_at.isoformat(),
        }
        for record in await api.client.store.list_state_machines()
    ]
    return page(
        machines, "stateMachines", "state-machines", p.get("maxResults"), p.get("nextToken")
    )


@operation("DeleteStateMachine")
async def delete_state_machine(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    name, version = machine_ref(p["stateMachineArn"])
    if version is not None:
        raise ApiError("ValidationException", "Deleting one version of a machine is not served")
    return await api.client.delete_state_machine(name)


@operation("DescribeStateMachineForExecution")
async def describe_state_machine_for_execution(
    api: StepFunctionsApi, p: dict[str, Any]
) -> dict[str, Any]:
    arn = execution_ref(p["executionArn"])
    await api.client.describe_execution(arn)  # ExecutionDoesNotExist, as AWS says it
    execution = await api.client.store.get_execution(arn)
    assert execution is not None
    record = await api.client.store.get_state_machine(
        execution.state_machine_name, execution.state_machine_version
    )
    if record is None:  # the store keeps every version an execution ran
        raise ApiError("StateMachineDoesNotExist", "State Machine Does Not Exist")
    return {
        "stateMachineArn": arns.state_machine_arn(record.name),
        "name": record.name,
        "definition": record.definition,
        "roleArn": DEFAULT_ROLE_ARN,
        "updateDate": record.created_at.isoformat(),
        "revisionId": str(record.version),
    }


@operation("ValidateStateMachineDefinition")
async def validate_state_machine_definition(
    api: StepFunctionsApi, p: dict[str, Any]
) -> dict[str, Any]:
    try:
        load_machine(p["definition"])
    except InvalidDefinition as exc:
        diagnostics = [
            {
                "severity": "ERROR",
                "code": "SCHEMA_VALIDATION_FAILED",
                "message": error.message,
                "location": error.location,
            }
            for error in exc.errors
        ]
    else:
        diagnostics = []
    limit = p.get("maxResults") or 100
    return {
        "result": "FAIL" if diagnostics else "OK",
        "diagnostics": diagnostics[:limit],
        "truncated": len(diagnostics) > limit,
    }


# -- executions ----------------------------------------------------------------------------


@operation("StartExecution")
async def start_execution(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    name, version = machine_ref(p["stateMachineArn"])
    return await api.client.start_execution(
        name, p.get("input", "{}"), p.get("name"), version=version
    )


@operation("DescribeExecution")
async def describe_execution(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    return await api.client.describe_execution(execution_ref(p["executionArn"]))


@operation("ListExecutions")
async def list_executions(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    machine = p.get("stateMachineArn")
    if machine is None and p.get("mapRunArn") is None:
        # The model leaves both optional, but AWS lists the executions of one state
        # machine or one Map Run only, and refuses a call that names neither.
        raise ApiError(
            "ValidationException",
            "1 validation error detected: Must provide a StateMachine ARN or MapRun ARN",
        )
    if machine is not None:
        await api.find_machine(machine)
    return await api.client.list_executions(
        machine_ref(machine)[0] if machine else None,
        p.get("statusFilter"),
        p.get("maxResults") or 100,
        p.get("nextToken"),
        p.get("redriveFilter"),
    )


@operation("GetExecutionHistory")
async def get_execution_history(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    arn = execution_ref(p["executionArn"])
    history = await api.client.get_execution_history(arn, reverse=bool(p.get("reverseOrder")))
    events = history["events"]
    if p.get("includeExecutionData") is False:
        events = [_without_data(event) for event in events]
    listing = f"history:{arn}:{'reverse' if p.get('reverseOrder') else 'forward'}"
    return page(events, "events", listing, p.get("maxResults"), p.get("nextToken"))


_DATA_FIELDS = ("input", "output", "inputDetails", "outputDetails")


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (
            {k: v for k, v in value.items() if k not in _DATA_FIELDS}
            if key.endswith("EventDetails") and isinstance(value, dict)
            else value
        )
        for key, value in event.items()
    }


@operation("StopExecution")
async def stop_execution(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    arn = execution_ref(p["executionArn"])
    stopped = await api.client.stop_execution(arn, p.get("error"), p.get("cause"))
    if stopped.get("stopDate") is None:
        stopped["stopDate"] = datetime.now(UTC).isoformat()
    return stopped


@operation("RedriveExecution")
async def redrive_execution(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    arn = execution_ref(p["executionArn"])
    return await api.client.redrive_execution(arn, p.get("clientToken"))


# -- callbacks -----------------------------------------------------------------------------


@operation("SendTaskSuccess")
async def send_task_success(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    return await api.client.send_task_success(p["taskToken"], p["output"])


@operation("SendTaskFailure")
async def send_task_failure(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    return await api.client.send_task_failure(
        p["taskToken"], p.get("error", ""), p.get("cause", "")
    )


@operation("SendTaskHeartbeat")
async def send_task_heartbeat(api: StepFunctionsApi, p: dict[str, Any]) -> dict[str, Any]:
    return await api.client.send_task_heartbeat(p["taskToken"])
