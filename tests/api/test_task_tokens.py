"""Callbacks through the API refuse a token as Step Functions does: one that does not hold
is InvalidToken, one whose task no longer waits is TaskTimedOut."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.asl.local import LocalRunner
from stepstream.asl.machine import load_machine
from stepstream.asl.tokens import encode_token
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.topics import Topics
from stepstream.store import ExecutionRecord, ExecutionStatus, InMemoryStore, NewEvent

REVIEW = {
    "StartAt": "Review",
    "States": {
        "Review": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "publish", "Payload": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}


class Waiting:
    def __init__(self, client: StepStreamClient, token: str) -> None:
        self.client = client
        self.token = token


@pytest.fixture
async def waiting() -> AsyncIterator[Waiting]:
    """An execution in the store whose Review task waits for its token."""
    tokens: list[str] = []
    local = LocalRunner(
        load_machine(REVIEW), functions={"publish": lambda event, _: tokens.append(event["token"])}
    )
    local.run({})
    arn = local.execution.state.execution_arn
    store = InMemoryStore()
    await store.open()
    version = await store.put_state_machine("local", json.dumps(REVIEW), "{}")
    record = ExecutionRecord(
        execution_arn=arn,
        state_machine_name="local",
        state_machine_version=version,
        name="local",
        status=ExecutionStatus.RUNNING,
        input="{}",
        start_date=datetime.now(UTC),
    )
    events = [NewEvent(e.type, e.to_record()) for e in local.history]
    await store.append(arn, 0, events, execution=record)
    publisher = FakeBus().publisher()
    await publisher.start()
    yield Waiting(StepStreamClient(store=store, publisher=publisher, topics=Topics("t")), tokens[0])
    await publisher.stop()
    await store.close()


def _forged(token: str) -> str:
    arn, task_id, _secret = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    return encode_token(arn, task_id, "guessed")


async def test_a_forged_token_of_a_waiting_task_is_an_invalid_token(waiting: Waiting) -> None:
    with pytest.raises(ApiError) as refused:
        await waiting.client.send_task_success(_forged(waiting.token), '"forged"')
    assert refused.value.code == "InvalidToken"


async def test_the_genuine_token_of_a_waiting_task_is_accepted(waiting: Waiting) -> None:
    assert await waiting.client.send_task_heartbeat(waiting.token) == {}
