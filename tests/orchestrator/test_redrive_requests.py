"""RedriveExecution requests to the orchestrator, over the in-memory store, without a broker."""

from __future__ import annotations

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream.asl.history import HistoryEvent
from stepstream.messaging.contracts import TaskCommand, TaskFailedReply, TaskSucceededReply
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.requests import RedriveExecution
from stepstream.store.memory import InMemoryStore
from tests.orchestrator.test_orchestrator import ARN, drain, orchestrator, reply, start, store

__all__ = ["store"]  # the fixture


def redrive_request(token: str) -> Envelope:
    return Envelope(kind=RedriveExecution.KIND, execution_id=ARN, payload={"client_token": token})


async def failed_at_charge(orch: Orchestrator, store: InMemoryStore) -> Envelope:
    await start(orch)
    [(_, charge)] = await drain(store)
    await orch.handle_envelope(reply(charge, TaskFailedReply.KIND, {"error": "CardDeclined"}))
    record = await store.get_execution(ARN)
    assert record is not None and (record.status, record.error) == ("FAILED", "CardDeclined")
    return charge


async def test_a_redrive_sends_the_failed_task_again_under_the_same_idempotency_key(
    store: InMemoryStore,
) -> None:
    orch = orchestrator(store)
    charge = await failed_at_charge(orch, store)

    await orch.handle_envelope(redrive_request("t-1"))

    [(topic, again)] = await drain(store)
    assert topic == "t.commands.payments"
    assert again.idempotency_key == charge.idempotency_key  # one charge, however often tried
    assert TaskCommand.model_validate(again.payload).input == {"order": 1}
    record = await store.get_execution(ARN)
    assert record is not None
    assert (record.status, record.error, record.stop_date, record.redrive_count) == (
        "RUNNING",
        None,
        None,
        1,
    )
    events = [e.type for e in await store.read(ARN)]
    assert events[-3:] == ["ExecutionRedriven", "TaskStateEntered", "LambdaFunctionScheduled"]
    redriven = HistoryEvent.from_record((await store.read(ARN))[-3].data)
    assert record.redrive_date == redriven.timestamp


async def test_a_repeated_or_refused_redrive_changes_nothing(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await failed_at_charge(orch, store)
    await orch.handle_envelope(redrive_request("t-1"))
    length = len(await store.read(ARN))

    await orch.handle_envelope(redrive_request("t-1"))  # redelivered
    await orch.handle_envelope(redrive_request("t-2"))  # another, while it runs again

    assert len(await store.read(ARN)) == length
    with pytest.raises(PoisonMessage, match=r"invalid execution\.redrive payload"):
        await orch.handle_envelope(redrive_request(""))


async def test_a_restarted_orchestrator_finishes_a_redriven_execution(
    store: InMemoryStore,
) -> None:
    await failed_at_charge(orchestrator(store), store)
    await orchestrator(store).handle_envelope(redrive_request("t-1"))
    [(_, charge)] = await drain(store)

    # A new orchestrator knows the execution only from its stored history.
    restarted = orchestrator(store)
    await restarted.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {"p": 1}}))
    [(_, ship)] = await drain(store)
    await restarted.handle_envelope(
        reply(ship, TaskSucceededReply.KIND, {"output": {"tracking": "T"}})
    )

    record = await store.get_execution(ARN)
    assert record is not None and (record.status, record.redrive_count) == ("SUCCEEDED", 1)
