"""A start request put straight on the bus meets the API's rules: it is refused (and
dead-lettered by intake) rather than starting an execution the API would have refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.asl.limits import MAX_PAYLOAD_BYTES
from stepstream.asl.ports import VirtualClock
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.requests import StartExecution
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@pytest.fixture
async def store() -> AsyncIterator[InMemoryStore]:
    memory = InMemoryStore()
    await memory.open()
    await memory.put_state_machine("Orders", json.dumps(PASS), "{}")
    yield memory
    await memory.close()


def start_request(name: str, execution_input: Any) -> Envelope:
    # model_construct: what another process could put on the bus, unchecked by this one.
    request = StartExecution.model_construct(
        state_machine="Orders", name=name, input=execution_input
    )
    return Envelope(
        kind=StartExecution.KIND,
        execution_id=arns.execution_arn("Orders", name),
        payload=request.model_dump(),
    )


@pytest.mark.parametrize(
    ("name", "execution_input", "reason"),
    [
        ("bad name !!", {}, "Invalid execution name 'bad name !!'"),
        ("x" * 81, {}, "Invalid execution name"),
        ("big", {"blob": "x" * MAX_PAYLOAD_BYTES}, "execution input is"),
    ],
)
async def test_a_start_the_api_would_refuse_is_poison_and_starts_nothing(
    store: InMemoryStore, name: str, execution_input: Any, reason: str
) -> None:
    orchestrator = Orchestrator(store=store, topics=Topics("t"), clock=VirtualClock())

    with pytest.raises(PoisonMessage, match=reason):
        await orchestrator.handle_envelope(start_request(name, execution_input))

    assert await store.list_executions() == []


async def test_a_good_start_still_starts(store: InMemoryStore) -> None:
    orchestrator = Orchestrator(store=store, topics=Topics("t"), clock=VirtualClock())

    await orchestrator.handle_envelope(start_request("ord-1", {"orderId": "ord-1"}))

    started = await store.get_execution(arns.execution_arn("Orders", "ord-1"))
    assert started is not None and started.status == "SUCCEEDED"
