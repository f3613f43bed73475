"""Choosing executions to redrive together: by state machine, status, error and stop time.

The command line's batch redrive (and anything else that redrives many at once) asks for
the candidates first, shows them, and only then redrives each with
``StepStreamClient.redrive_execution``, reporting one outcome per execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.asl.redrive import REDRIVABLE, REDRIVABLE_STATUSES


@dataclass(frozen=True, slots=True)
class Selection:
    """Which executions to redrive; None matches anything."""

    state_machine: str
    statuses: Sequence[str] = tuple(sorted(REDRIVABLE_STATUSES))
    error: str | None = None
    since: datetime | None = None  # stopped at or after
    until: datetime | None = None  # stopped before

    def __post_init__(self) -> None:
        wrong = [s for s in self.statuses if s not in REDRIVABLE_STATUSES]
        if wrong:
            allowed = ", ".join(sorted(REDRIVABLE_STATUSES))
            raise ValueError(f"status {wrong[0]!r} cannot be redriven; choose from {allowed}")
        for name, moment in (("since", self.since), ("until", self.until)):
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must say its time zone (…Z or …+00:00): {moment}")
        if self.since and self.until and self.since >= self.until:
            raise ValueError(f"since ({self.since.isoformat()}) must come before until")

    def matches(self, described: dict[str, Any]) -> bool:
        if self.error is not None and described.get("error") != self.error:
            return False
        stopped = datetime.fromisoformat(described["stopDate"])
        if self.since is not None and stopped < self.since:
            return False
        return self.until is None or stopped < self.until


@dataclass(frozen=True, slots=True)
class Candidates:
    """What a selection found: those to redrive, and those that match but cannot be."""

    redrivable: list[dict[str, Any]]
    not_redrivable: list[dict[str, Any]]


async def find_candidates(client: StepStreamClient, selection: Selection) -> Candidates:
    """Every execution the selection matches, described, newest first within each status."""
    redrivable: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for status in selection.statuses:
        token: str | None = None
        while True:
            page = await client.list_executions(
                selection.state_machine, status, limit=1000, next_token=token
            )
            for summary in page["executions"]:
                described = await client.describe_execution(summary["executionArn"])
                if selection.matches(described):
                    chosen = described["redriveStatus"] == REDRIVABLE
                    (redrivable if chosen else refused).append(described)
            token = page.get("nextToken")
            if token is None:
                break
    return Candidates(redrivable, refused)


@dataclass(frozen=True, slots=True)
class Outcome:
    execution_arn: str
    redrive_date: datetime | None = None
    error: str | None = None  # the API error's name when refused
    message: str | None = None

    @property
    def redriven(self) -> bool:
        return self.redrive_date is not None

    def to_json(self) -> dict[str, Any]:
        if self.redrive_date is not None:
            return {
                "executionArn": self.execution_arn,
                "redriveDate": self.redrive_date.isoformat(),
            }
        return {"executionArn": self.execution_arn, "error": self.error, "message": self.message}


async def redrive_each(client: StepStreamClient, arns: Sequence[str]) -> list[Outcome]:
    """Redrive one after another; a refusal is that execution's outcome, not the end."""
    outcomes = []
    for arn in arns:
        try:
            redriven = await client.redrive_execution(arn)
        except ApiError as exc:
            outcomes.append(Outcome(arn, error=exc.code, message=exc.message))
        else:
            outcomes.append(Outcome(arn, redrive_date=redriven["redriveDate"]))
    return outcomes
