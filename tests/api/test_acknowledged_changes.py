"""A start or stop the API acknowledges exists, even when the broker loses the request."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore
from tests.orchestrator.forgetful_broker import ForgetfulBroker

TOPICS = Topics("t")
DEFINITION = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "work", "Payload.$": "$"},
            "TimeoutSeconds": 300,
            "End": True,
        }
    },
}
BINDINGS = {"functions": {"work": "work"}}


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    await memory.put_state_machine("Orders", json.dumps(DEFINITION), json.dumps(BINDINGS))
    yield memory
    await memory.close()


def client_over(store: InMemoryStore, broker: ForgetfulBroker) -> StepStreamClient:
    client = StepStreamClient(store=store, publisher=broker, topics=TOPICS, wait_seconds=3.0)
    client.resend_seconds = 0.05
    return client


async def test_a_start_the_broker_lost_is_sent_again_until_it_is_recorded(
    store: InMemoryStore,
) -> None:
    broker = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS), forget=2)
    started = await client_over(store, broker).start_execution("Orders", "{}", "o-1")
    assert started["startDate"] is not None
    assert await store.get_execution(started["executionArn"]) is not None


async def test_a_start_never_recorded_is_an_error_not_an_answer(store: InMemoryStore) -> None:
    broker = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS), forget=None)
    client = client_over(store, broker)
    client.wait_seconds = 0.3
    with pytest.raises(ApiError) as raised:
        await client.start_execution("Orders", "{}", "o-1")
    assert raised.value.code == "ServiceUnavailable"
    assert "not recorded" in raised.value.message


async def test_a_stop_the_broker_lost_is_sent_again_until_it_is_recorded(
    store: InMemoryStore,
) -> None:
    broker = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS), forget=0)
    client = client_over(store, broker)
    started = await client.start_execution("Orders", "{}", "o-1")
    broker.forget, broker.sent = 1, []
    stopped = await client.stop_execution(started["executionArn"], "Cancelled", "by test")
    assert stopped["stopDate"] is not None
    record = await store.get_execution(started["executionArn"])
    assert record is not None and record.status == "ABORTED"


CALLBACK = {
    "StartAt": "Wait",
    "States": {
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "review", "MessageBody": {"token.$": "$$.Task.Token"}},
            "End": True,
        }
    },
}
CALLBACK_BINDINGS = {
    "resources": {"arn:aws:states:::sqs:sendMessage.waitForTaskToken": {"topic": "review"}}
}


async def _waiting_token(store: InMemoryStore, arn: str) -> str:
    for event in await store.read(arn):
        token = (event.data.get("details") or {}).get("taskToken")
        if token:
            return str(token)
    raise AssertionError("no task token in the history")


async def test_a_task_answer_the_broker_lost_is_sent_again_until_it_is_recorded(
    store: InMemoryStore,
) -> None:
    # A review decision acknowledged by a broker that then died must still arrive, or
    # the order waits in review for ever with its ticket marked resolved.
    await store.put_state_machine("Review", json.dumps(CALLBACK), json.dumps(CALLBACK_BINDINGS))
    broker = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS), forget=0)
    client = client_over(store, broker)
    arn = (await client.start_execution("Review", "{}", "r-1"))["executionArn"]
    token = await _waiting_token(store, arn)
    broker.forget, broker.sent = 2, []
    await client.send_task_success(token, '{"decision": "retry"}')
    assert len(broker.sent) == 3
    record = await store.get_execution(arn)
    assert record is not None and record.status == "SUCCEEDED"
