"""Registering a state machine is a request to the orchestrator, the store's only writer:
the API client reads the store and never writes it, and the orchestrator checks again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from services.orchestrator.app import BadStateMachine, MachineFiles, register_state_machines
from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.api.client import StepStreamClient
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.requests import CreateStateMachine
from stepstream.messaging.topics import Topics
from stepstream.store.base import ExecutionReader
from stepstream.store.memory import InMemoryStore
from stepstream.store.records import ExecutionRecord, ExecutionStatus, ListPosition, StoredEvent
from tests.orchestrator.forgetful_broker import ForgetfulBroker

TOPICS = Topics("t")
SHIP = {
    "StartAt": "Ship",
    "States": {
        "Ship": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ship", "Payload.$": "$"},
            "End": True,
        }
    },
}
GOOD = {"functions": {"ship": "shipping"}}


class ReadOnly:
    """The store seen through ``ExecutionReader`` alone: no method that writes exists."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def read(self, stream_id: str, after_version: int = 0) -> Sequence[StoredEvent]:
        return await self._store.read(stream_id, after_version)

    async def get_execution(self, execution_arn: str) -> ExecutionRecord | None:
        return await self._store.get_execution(execution_arn)

    async def list_executions(
        self,
        state_machine_name: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        *,
        after: ListPosition | None = None,
    ) -> list[ExecutionRecord]:
        return await self._store.list_executions(state_machine_name, status, limit, after=after)

    async def get_state_machine(self, name: str, version: int | None = None):  # type: ignore[no-untyped-def]
        return await self._store.get_state_machine(name, version)

    async def list_state_machines(self):  # type: ignore[no-untyped-def]
        return await self._store.list_state_machines()


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    yield memory
    await memory.close()


def client(store: InMemoryStore, bus: ForgetfulBroker) -> StepStreamClient:
    reader: ExecutionReader = ReadOnly(store)
    return StepStreamClient(store=reader, publisher=bus, topics=TOPICS, resend_seconds=0.02)


async def test_the_client_registers_through_the_orchestrator_reading_the_store_only(
    store: InMemoryStore,
) -> None:
    bus = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS))
    created = await client(store, bus).create_state_machine(
        "Ship", json.dumps(SHIP), json.dumps(GOOD)
    )

    arn = arns.state_machine_arn("Ship")
    assert created["stateMachineVersionArn"] == f"{arn}:1"
    topic, key, envelope = bus.sent[0]
    assert (topic, key, envelope.kind) == (TOPICS.requests(), arn, CreateStateMachine.KIND)
    record = await store.get_state_machine("Ship")
    assert record is not None and json.loads(record.definition) == SHIP


async def test_the_same_machine_again_is_the_same_version_and_a_change_a_new_one(
    store: InMemoryStore,
) -> None:
    api = client(store, ForgetfulBroker(Orchestrator(store=store, topics=TOPICS)))
    first = await api.create_state_machine("Ship", json.dumps(SHIP), json.dumps(GOOD))
    again = await api.create_state_machine("Ship", json.dumps(SHIP, indent=2), json.dumps(GOOD))
    changed = {**SHIP, "Comment": "changed"}
    second = await api.create_state_machine("Ship", json.dumps(changed), json.dumps(GOOD))

    assert again["stateMachineVersionArn"] == first["stateMachineVersionArn"]
    assert second["stateMachineVersionArn"].endswith(":2")


async def test_a_lost_registration_is_sent_again_until_the_store_shows_it(
    store: InMemoryStore,
) -> None:
    bus = ForgetfulBroker(Orchestrator(store=store, topics=TOPICS), forget=2)
    await client(store, bus).create_state_machine("Ship", json.dumps(SHIP), json.dumps(GOOD))

    assert len(bus.sent) == 3
    assert await store.get_state_machine("Ship") is not None


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (
            CreateStateMachine(name="Ship", definition='{"StartAt": "Nowhere"}', bindings="{}"),
            "InvalidDefinition",
        ),
        (
            CreateStateMachine(
                name="Ship",
                definition=json.dumps(SHIP),
                bindings=json.dumps({"functions": {"ship": "bad service name!"}}),
            ),
            "bad service name!",
        ),
        (
            CreateStateMachine(name="bad name!", definition=json.dumps(SHIP), bindings="{}"),
            "InvalidName",
        ),
    ],
)
async def test_a_bad_registration_put_straight_on_the_bus_is_dead_lettered(
    store: InMemoryStore, request_: CreateStateMachine, reason: str
) -> None:
    orchestrator = Orchestrator(store=store, topics=TOPICS)
    envelope = Envelope(
        kind=request_.KIND,
        execution_id=arns.state_machine_arn("Ship"),
        payload=request_.model_dump(),
    )

    with pytest.raises(PoisonMessage, match=reason):
        await orchestrator.handle_envelope(envelope)

    assert await store.list_state_machines() == []


async def test_the_orchestrator_registers_the_machines_its_settings_name(
    store: InMemoryStore, tmp_path: Path
) -> None:
    definition, bindings = tmp_path / "ship.asl.json", tmp_path / "ship.bindings.json"
    definition.write_text(json.dumps(SHIP))
    bindings.write_text(json.dumps(GOOD))
    machines = [MachineFiles(name="Ship", definition=definition, bindings=bindings)]

    await register_state_machines(store, machines)
    await register_state_machines(store, machines)

    record = await store.get_state_machine("Ship")
    assert record is not None and record.version == 1


async def test_the_orchestrator_refuses_to_start_with_a_bad_machine_and_stores_none(
    store: InMemoryStore, tmp_path: Path
) -> None:
    definition, bindings = tmp_path / "ship.asl.json", tmp_path / "ship.bindings.json"
    definition.write_text(json.dumps(SHIP))
    bindings.write_text(json.dumps({"functions": {"ship": "bad service name!"}}))
    good = tmp_path / "good.bindings.json"
    good.write_text(json.dumps(GOOD))
    machines = [
        MachineFiles(name="Fine", definition=definition, bindings=good),
        MachineFiles(name="Ship", definition=definition, bindings=bindings),
    ]

    with pytest.raises(BadStateMachine, match=r"state machine Ship \(.*\): .*bad service name!"):
        await register_state_machines(store, machines)

    assert await store.list_state_machines() == []
