"""Executions as the desk shows them: listed with filters, and one with its graph and history.

Reads go through the Step Functions API client (``StepStreamClient``), the definition
at the execution's own version through the store reader the client holds.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Protocol

from apps.desk.security import without_tokens
from stepstream import arns
from stepstream.api.errors import ApiError
from stepstream.graph import layout, read_graph, read_progress, render_svg
from stepstream.graph.progress import Progress
from stepstream.store.base import ExecutionReader

STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
# What can be redriven, as on AWS: an execution that stopped without succeeding.
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")
REDRIVE_FILTERS = ("REDRIVEN", "NOT_REDRIVEN")
PAGE_SIZE = 25
# How many executions a search by name looks through.
SEARCH_LIMIT = 5000


class ExecutionApi(Protocol):
    store: ExecutionReader

    async def describe_execution(self, execution_arn: str) -> dict[str, Any]: ...

    async def get_execution_history(
        self, execution_arn: str, *, reverse: bool = False
    ) -> dict[str, Any]: ...

    async def list_executions(
        self,
        state_machine: str | None = None,
        status: str | None = None,
        limit: int = 100,
        next_token: str | None = None,
        redrive_filter: str | None = None,
    ) -> dict[str, Any]: ...

    async def redrive_execution(
        self, execution_arn: str, client_token: str | None = None
    ) -> dict[str, Any]: ...

    async def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class EventRow:
    id: int
    type: str
    timestamp: str
    state: str | None
    scope: str
    summary: str
    details: str  # pretty JSON, task tokens hidden


@dataclass(frozen=True)
class ExecutionView:
    described: dict[str, Any]
    input: str
    output: str | None
    events: list[EventRow]
    progress: Progress
    svg: str


@dataclass(frozen=True)
class ExecutionList:
    executions: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    machines: list[str]


async def execution_view(
    api: ExecutionApi, execution_arn: str, *, failed_state: str | None = None
) -> ExecutionView:
    """The execution with its history and its graph (``failed_state`` highlighted if given)."""
    described = await api.describe_execution(execution_arn)
    events = (await api.get_execution_history(execution_arn))["events"]
    progress = read_progress(events)
    definition = await _definition(api, described)
    svg = render_svg(layout(read_graph(definition)), progress, failed_state=failed_state)
    return ExecutionView(
        described=described,
        input=_pretty(described.get("input")),
        output=_pretty(described["output"]) if described.get("output") is not None else None,
        events=[_row(event) for event in events],
        progress=progress,
        svg=svg,
    )


@dataclass(frozen=True)
class ExecutionFilter:
    machine: str | None = None
    status: str | None = None
    search: str | None = None
    redriven: str | None = None


async def matching_executions(api: ExecutionApi, wanted: ExecutionFilter) -> list[dict[str, Any]]:
    """Every execution ``wanted`` picks (up to SEARCH_LIMIT), newest first."""
    if wanted.status and wanted.status not in STATUSES:
        raise ApiError("InvalidArguments", f"status must be one of {', '.join(STATUSES)}")
    if wanted.redriven and wanted.redriven not in REDRIVE_FILTERS:
        raise ApiError("InvalidArguments", f"redriven must be one of {', '.join(REDRIVE_FILTERS)}")
    found: list[dict[str, Any]] = []
    token: str | None = None
    while len(found) < SEARCH_LIMIT:
        listing = await api.list_executions(
            wanted.machine, wanted.status, 1000, token, redrive_filter=wanted.redriven
        )
        found += listing["executions"]
        token = listing.get("nextToken")
        if token is None:
            break
    if wanted.search:
        text = wanted.search.strip().lower()
        found = [e for e in found if text in e["name"].lower()]
    return found


async def list_executions(
    api: ExecutionApi, wanted: ExecutionFilter, *, page: int, size: int = PAGE_SIZE
) -> ExecutionList:
    """One page of the executions ``wanted`` picks, newest first."""
    found = await matching_executions(api, wanted)
    pages = max(1, -(-len(found) // size))
    page = min(max(1, page), pages)
    machines = sorted(m.name for m in await api.store.list_state_machines())
    return ExecutionList(found[(page - 1) * size : page * size], len(found), page, pages, machines)


async def _definition(api: ExecutionApi, described: dict[str, Any]) -> dict[str, Any]:
    name = arns.state_machine_name(described["stateMachineArn"])
    version_arn = str(described.get("stateMachineVersionArn", ""))
    version = version_arn.rsplit(":", 1)[-1]
    record = await api.store.get_state_machine(name, int(version) if version.isdigit() else None)
    if record is None:
        raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{name}'")
    parsed: dict[str, Any] = json.loads(record.definition)
    return parsed


def _row(event: dict[str, Any]) -> EventRow:
    details_key = next((k for k in event if k.endswith("EventDetails")), None)
    details = dict(event.get(details_key) or {}) if details_key else {}
    for key, value in list(details.items()):
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(json.JSONDecodeError):
                details[key] = json.loads(value)
    shown = without_tokens(details)
    is_state = event["type"].endswith(("StateEntered", "StateExited"))
    state = shown.get("name") if is_state else None
    summary = ""
    if "error" in shown:
        summary = f"{shown['error']}: {str(shown.get('cause', ''))[:120]}"
    elif "resource" in shown:
        summary = f"{shown.get('resourceType', '')}:{shown['resource']}"
    return EventRow(
        id=int(event["id"]),
        type=str(event["type"]),
        timestamp=str(event.get("timestamp", "")),
        state=state,
        scope=str(event.get("scope", "")),
        summary=summary,
        details=json.dumps(shown, indent=2, sort_keys=True) if shown else "",
    )


def _pretty(text: Any) -> str:
    if not isinstance(text, str):
        return json.dumps(without_tokens(text), indent=2)
    try:
        return json.dumps(without_tokens(json.loads(text)), indent=2)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class RedriveOutcome:
    execution_arn: str
    ok: bool
    message: str

    @property
    def name(self) -> str:
        return self.execution_arn.rsplit(":", 1)[-1]


def redrive_token(batch: str, execution_arn: str) -> str:
    """The client token of one execution's redrive in a batch: the same batch sent twice
    (a form submitted again) redrives nothing more."""
    return f"{batch[:32]}-{hashlib.sha256(execution_arn.encode()).hexdigest()[:24]}"


async def redrive_many(
    api: ExecutionApi, execution_arns: list[str], *, batch: str
) -> list[RedriveOutcome]:
    """Redrive each execution on its own; a refusal (with AWS's reason) stops none of the rest."""
    outcomes = []
    for arn in dict.fromkeys(execution_arns):
        try:
            answer = await api.redrive_execution(arn, client_token=redrive_token(batch, arn))
        except ApiError as exc:
            outcomes.append(RedriveOutcome(arn, False, f"{exc.code}: {exc.message}"))
        else:
            outcomes.append(RedriveOutcome(arn, True, f"redriven at {answer.get('redriveDate')}"))
    return outcomes
