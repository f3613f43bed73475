"""Bindings are checked whole before a machine is stored, and bad ones in the store hurt
only the executions of that machine: the orchestrator starts and goes on."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from apps.stack.up import register
from services.orchestrator.app import topic_specs
from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.asl.ports import VirtualClock
from stepstream.bindings import InvalidBindings
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.requests import StartExecution
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore
from tests.orchestrator.forgetful_broker import ForgetfulBroker

TOPICS = Topics("t")

SHIP = {
    "StartAt": "Ship",
    "States": {
        "Ship": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ship", "Payload.$": "$"},
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
            "End": True,
        },
        "Caught": {"Type": "Succeed"},
    },
}
GOOD = {"functions": {"ship": "shipping"}}
BAD_SERVICE = {"functions": {"ship": "bad service name!"}}


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    yield memory
    await memory.close()


def through(orchestrator: Orchestrator) -> StepStreamClient:
    return StepStreamClient(
        store=orchestrator.store, publisher=ForgetfulBroker(orchestrator), topics=TOPICS
    )


def client(store: InMemoryStore) -> StepStreamClient:
    return StepStreamClient(store=store, publisher=FakeBus().publisher(), topics=TOPICS)


@pytest.mark.parametrize(
    ("bindings", "named"),
    [
        (BAD_SERVICE, "'bad service name!'"),
        ({"functions": {"ship": "shipping", "pack": "packing"}}, "function 'pack'"),
        (
            {
                "functions": {"ship": "shipping"},
                "resources": {"arn:aws:states:::sns:publish": {"topic": "news"}},
            },
            "resource 'arn:aws:states:::sns:publish'",
        ),
        (
            {
                "functions": {"ship": "shipping"},
                "resources": {"arn:aws:states:::lambda:invoke": {"topic": "bad/topic"}},
            },
            "'bad/topic'",
        ),
    ],
)
async def test_create_state_machine_refuses_bad_bindings_and_stores_nothing(
    store: InMemoryStore, bindings: dict[str, Any], named: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await client(store).create_state_machine("Ship", json.dumps(SHIP), json.dumps(bindings))

    assert refused.value.code == "InvalidBindings"
    assert named in refused.value.message
    assert await store.get_state_machine("Ship") is None


def test_the_stack_refuses_to_register_bad_bindings() -> None:
    with pytest.raises(InvalidBindings, match="bad service name!"):
        register("Ship", json.dumps(SHIP), json.dumps(BAD_SERVICE))


async def test_good_bindings_are_still_stored(store: InMemoryStore) -> None:
    orchestrator = Orchestrator(store=store, topics=TOPICS)
    await through(orchestrator).create_state_machine("Ship", json.dumps(SHIP), json.dumps(GOOD))

    assert await store.get_state_machine("Ship") is not None


async def test_a_stored_machine_with_bad_bindings_gets_no_topics_and_an_error_logged(
    store: InMemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    await store.put_state_machine("Broken", json.dumps(SHIP), json.dumps(BAD_SERVICE))
    await store.put_state_machine("Fine", json.dumps(SHIP), json.dumps(GOOD))

    with caplog.at_level(logging.ERROR):
        specs = await topic_specs(store, TOPICS, partitions=1)

    names = {spec.name for spec in specs}
    assert TOPICS.commands("shipping") in names
    assert TOPICS.requests() in names
    assert "state machine Broken:1 skipped" in caplog.text
    assert "bad service name!" in caplog.text


@pytest.mark.parametrize("stored", [json.dumps(BAD_SERVICE), '{"functions": ["ship"]}'])
async def test_an_execution_of_a_machine_with_bad_bindings_fails_with_a_runtime_error(
    store: InMemoryStore, stored: str
) -> None:
    await store.put_state_machine("Broken", json.dumps(SHIP), stored)
    await store.put_state_machine("Fine", json.dumps(SHIP), json.dumps(GOOD))
    orchestrator = Orchestrator(store=store, topics=TOPICS, clock=VirtualClock())

    broken = await orchestrator.start(StartExecution(state_machine="Broken", name="b-1", input={}))
    fine = await orchestrator.start(StartExecution(state_machine="Fine", name="f-1", input={}))

    failed = await store.get_execution(broken)
    assert failed is not None and failed.status == "FAILED"
    assert failed.error == "States.Runtime"
    assert failed.cause is not None and "Broken" in failed.cause
    expected = "bad service name!" if 'ship":' in stored else "invalid bindings"
    assert expected in failed.cause
    running = await store.get_execution(fine)
    assert running is not None and running.status == "RUNNING"
    assert fine == arns.execution_arn("Fine", "f-1")
