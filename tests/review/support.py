"""A whole review loop under test: orchestrator, a flaky worker, the desk's intake, one broker."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from apps.cli.main import main
from services.review_desk.app import open_tickets, serve
from services.review_desk.desk import ReviewDesk
from services.review_desk.settings import ReviewDeskSettings
from services.review_desk.tickets import Ticket
from stepstream.api.stack_file import StackFile, write_stack
from stepstream.messaging.kafka import KafkaSettings
from stepstream.worker import CommandContext
from tests.integration.harness import System, eventually, running_system

REVIEW_BINDINGS = {
    "functions": {"ship": "shipper"},
    "resources": {"arn:aws:states:::sqs:sendMessage.waitForTaskToken": {"topic": "human-review"}},
}


def reviewed_shipping(review_timeout: int | None = None) -> dict[str, Any]:
    """Ship; an unknown failure waits for review, whose decision retries, compensates or fails."""
    review: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": "human-review",
            "MessageBody": {
                "executionArn.$": "$$.Execution.Id",
                "taskToken.$": "$$.Task.Token",
                "state": "Ship",
                "errorInfo.$": "$.errorInfo",
                "order.$": "$",
            },
        },
        "ResultPath": "$.reviewOutcome",
        "Next": "ChooseAfterReview",
    }
    if review_timeout is not None:
        review["TimeoutSeconds"] = review_timeout
    decided = "$.reviewOutcome.decision"
    return {
        "StartAt": "Ship",
        "States": {
            "Ship": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "ship", "Payload.$": "$"},
                "ResultSelector": {"trackingNumber.$": "$.Payload"},
                "ResultPath": "$.shipment",
                "Catch": [
                    {
                        "ErrorEquals": ["States.ALL"],
                        "ResultPath": "$.errorInfo",
                        "Next": "WaitForHumanReview",
                    }
                ],
                "Next": "Shipped",
            },
            "WaitForHumanReview": review,
            "ChooseAfterReview": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": decided, "StringEquals": "retry", "Next": "Ship"},
                    {"Variable": decided, "StringEquals": "compensate", "Next": "Compensated"},
                ],
                "Default": "ReviewedAndFailed",
            },
            "Shipped": {"Type": "Succeed"},
            "Compensated": {"Type": "Fail", "Error": "OrderFulfillmentFailed", "Cause": "undone"},
            "ReviewedAndFailed": {"Type": "Fail", "Error": "OrderFulfillmentFailed"},
        },
    }


class CarrierResponseMalformed(Exception):
    pass


@dataclass
class ReviewLoop:
    system: System
    desk: ReviewDesk
    settings: ReviewDeskSettings
    ship_calls: int = 0

    async def ticket_of(self, execution_arn: str) -> Ticket:
        async def probe() -> Ticket | None:
            tickets = await self.desk.list_tickets()
            return next((t for t in tickets if t.execution_arn == execution_arn), None)

        found: Ticket = await eventually(probe, timeout=20)
        return found


@contextlib.asynccontextmanager
async def review_loop(
    kafka: KafkaSettings, store_url: str, prefix: str, data_dir: Path, *, fail_first: int = 1
) -> AsyncIterator[ReviewLoop]:
    """The orchestrator, a shipper failing its first ``fail_first`` calls, and the desk."""
    async with running_system(kafka, store_url, prefix) as system:
        settings = ReviewDeskSettings(kafka=kafka, topic_prefix=prefix, data_dir=data_dir)
        database = await open_tickets(settings)
        loop = ReviewLoop(system, ReviewDesk(database=database, executions=system.client), settings)

        async def ship(command: CommandContext) -> Any:
            loop.ship_calls += 1
            if loop.ship_calls <= fail_first:
                raise CarrierResponseMalformed("the carrier answered with half a page of HTML")
            return f"TRK-{command.input['orderId']}"

        await system.add_worker("shipper", {"ship": ship})
        stop = asyncio.Event()
        intake = asyncio.create_task(serve(settings, stop))
        try:
            yield loop
        finally:
            stop.set()
            await intake
            await database.close()


def advertise_stack(folder: Path, kafka: KafkaSettings, store_url: str, prefix: str) -> None:
    """Write the file `stepstream up` writes, so the commands find this test's system."""
    stack = StackFile(
        supervisor_pid=os.getpid(),
        bootstrap_servers=kafka.bootstrap_servers,
        store_url=store_url,
        topic_prefix=prefix,
        started_at=datetime.now(UTC),
    )
    write_stack(folder, stack)


async def stepstream(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    # The command runs its own event loop; a thread keeps this test's loop (and the
    # orchestrator on it) running meanwhile.
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err
