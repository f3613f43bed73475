"""The orchestrator over a real store implementation (in memory), without a broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.asl.ports import VirtualClock
from stepstream.messaging.contracts import (
    PUBLISH_KIND,
    TaskCommand,
    TaskFailedReply,
    TaskSucceededReply,
)
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.requests import SendTaskSuccess, StartExecution
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore
from stepstream.store.records import Timer

TOPICS = Topics("t")

DEFINITION = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:charge",
            "ResultPath": "$.payment",
            "Next": "Ship",
        },
        "Ship": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "ship", "Payload.$": "$"},
            "ResultSelector": {"tracking.$": "$.Payload.tracking"},
            "ResultPath": "$.shipment",
            "Retry": [{"ErrorEquals": ["Flaky"], "IntervalSeconds": 3, "MaxAttempts": 2}],
            "Catch": [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.errorInfo", "Next": "Review"}
            ],
            "End": True,
        },
        "Review": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": "review",
                "MessageBody": {"token.$": "$$.Task.Token", "error.$": "$.errorInfo"},
            },
            "End": True,
        },
    },
}
BINDINGS = {
    "functions": {"charge": "payments", "ship": "shipping"},
    "resources": {"arn:aws:states:::sqs:sendMessage.waitForTaskToken": {"topic": "human-review"}},
}
ARN = arns.execution_arn("Orders", "o-1")


@pytest.fixture
async def store() -> Any:
    memory = InMemoryStore()
    await memory.open()
    await memory.put_state_machine("Orders", json.dumps(DEFINITION), json.dumps(BINDINGS))
    yield memory
    await memory.close()


def orchestrator(store: InMemoryStore, clock: VirtualClock | None = None) -> Orchestrator:
    return Orchestrator(store=store, topics=TOPICS, clock=clock or VirtualClock())


async def drain(store: InMemoryStore) -> list[tuple[str, Envelope]]:
    """What the relay would publish now, excluding history."""
    pending = await store.pending_outbox(1000)
    await store.mark_published([p.id for p in pending])
    messages = [(p.message.topic, Envelope.model_validate_json(p.message.value)) for p in pending]
    return [(topic, env) for topic, env in messages if topic != TOPICS.history()]


def reply(command: Envelope, kind: str, payload: dict[str, Any]) -> Envelope:
    return Envelope(
        kind=kind, execution_id=command.execution_id, command_id=command.command_id, payload=payload
    )


async def start(orch: Orchestrator, order: dict[str, Any] | None = None) -> None:
    request = StartExecution(state_machine="Orders", name="o-1", input=order or {"order": 1})
    await orch.handle_envelope(
        Envelope(kind=StartExecution.KIND, execution_id=ARN, payload=request.model_dump())
    )


async def test_a_start_appends_history_and_the_first_command_together(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await start(orch)
    [(topic, command)] = await drain(store)
    assert topic == "t.commands.payments"
    assert command.kind == TaskCommand.KIND
    assert TaskCommand.model_validate(command.payload).input == {"order": 1}
    assert command.idempotency_key == f"{ARN}##Charge"
    events = [e.type for e in await store.read(ARN)]
    assert events[:3] == ["ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled"]
    record = await store.get_execution(ARN)
    assert record is not None and record.status == "RUNNING"


async def test_replies_move_the_execution_to_success(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await start(orch)
    [(_, charge)] = await drain(store)
    await orch.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {"paid": 10}}))
    [(topic, ship)] = await drain(store)
    assert topic == "t.commands.shipping"
    assert TaskCommand.model_validate(ship.payload).input == {"order": 1, "payment": {"paid": 10}}
    await orch.handle_envelope(reply(ship, TaskSucceededReply.KIND, {"output": {"tracking": "T1"}}))
    record = await store.get_execution(ARN)
    assert record is not None and record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == {
        "order": 1,
        "payment": {"paid": 10},
        "shipment": {"tracking": "T1"},
    }


async def test_a_duplicate_reply_changes_nothing(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await start(orch)
    [(_, charge)] = await drain(store)
    answer = reply(charge, TaskSucceededReply.KIND, {"output": {}})
    await orch.handle_envelope(answer)
    version = len(await store.read(ARN))
    await orch.handle_envelope(answer)
    await orchestrator(store).handle_envelope(answer)  # and from a fresh process, after replay
    assert len(await store.read(ARN)) == version
    assert len(await drain(store)) == 1  # only the Ship command, once


async def ship_fails_once(store: InMemoryStore, orch: Orchestrator) -> Envelope:
    """Charge succeeds and Ship fails with a retried error; returns the Ship command."""
    await start(orch)
    [(_, charge)] = await drain(store)
    await orch.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {}}))
    [(_, ship)] = await drain(store)
    await orch.handle_envelope(
        reply(ship, TaskFailedReply.KIND, {"error": "Flaky", "cause": "try again"})
    )
    return ship


async def armed(store: InMemoryStore) -> list[Timer]:
    """Every armed timer, earliest first."""
    return await store.due_timers(datetime(9999, 1, 1, tzinfo=UTC), limit=1000)


async def test_a_retry_waits_on_a_durable_timer(store: InMemoryStore) -> None:
    clock = VirtualClock()
    ship = await ship_fails_once(store, orchestrator(store, clock))
    assert await drain(store) == []
    [timer] = await armed(store)
    assert timer.due_at == clock.now() + timedelta(seconds=3)
    # A new orchestrator (after a crash) fires the timer from the store and re-sends.
    later = orchestrator(store, clock)
    assert await later.fire_due_timers(clock.now()) == 0
    clock.advance(3)
    assert await later.fire_due_timers(clock.now()) == 1
    [(topic, again)] = await drain(store)
    assert topic == "t.commands.shipping" and again.command_id != ship.command_id
    assert await armed(store) == []


async def test_a_retry_after_in_the_failure_reply_holds_the_durable_timer_back(
    store: InMemoryStore,
) -> None:
    clock = VirtualClock()
    orch = orchestrator(store, clock)
    await start(orch)
    [(_, charge)] = await drain(store)
    await orch.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {}}))
    [(_, ship)] = await drain(store)
    failure = {"error": "Flaky", "cause": "429", "retry_after_seconds": 10}
    await orch.handle_envelope(reply(ship, TaskFailedReply.KIND, failure))

    [timer] = await armed(store)
    assert timer.due_at == clock.now() + timedelta(seconds=10)  # not the definition's 3 s
    [failed] = [e for e in await store.read(ARN) if e.type == "TaskFailed"]
    assert failed.data["details"] | {"cause": ""} == {
        "error": "Flaky",
        "cause": "",
        "resourceType": "lambda",
        "resource": "invoke",
        "retryAfterSeconds": 10,
        "drawnDelaySeconds": 3,
        "retryDelaySeconds": 10,
        "retryDelayReason": "retry-after",
    }


async def test_a_replica_fires_only_the_timers_of_executions_it_owns(
    store: InMemoryStore,
) -> None:
    clock = VirtualClock()
    orch = orchestrator(store, clock)
    await ship_fails_once(store, orch)
    clock.advance(3)

    assert await orch.fire_due_timers(clock.now(), owns=lambda arn: arn != ARN) == 0
    assert len(await armed(store)) == 1  # left to the replica that owns the execution
    assert await orch.fire_due_timers(clock.now(), owns=lambda arn: arn == ARN) == 1
    assert await armed(store) == []


async def test_an_unknown_failure_waits_for_a_human_with_a_token(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await start(orch)
    [(_, charge)] = await drain(store)
    await orch.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {}}))
    [(_, ship)] = await drain(store)
    await orch.handle_envelope(
        reply(ship, TaskFailedReply.KIND, {"error": "Garbled", "cause": "?"})
    )
    [(topic, ticket)] = await drain(store)
    assert topic == "t.human-review" and ticket.kind == PUBLISH_KIND
    token = ticket.payload["task_token"]
    assert ticket.payload["message"] == {
        "token": token,
        "error": {"Error": "Garbled", "Cause": "?"},
    }
    answer = SendTaskSuccess(task_token=token, output={"decision": "fail"})
    await orch.handle_envelope(
        Envelope(kind=answer.KIND, execution_id=ARN, payload=answer.model_dump())
    )
    record = await store.get_execution(ARN)
    assert record is not None and record.status == "SUCCEEDED"
    assert json.loads(record.output or "null") == {"decision": "fail"}


async def test_two_orchestrators_never_both_advance_one_execution(store: InMemoryStore) -> None:
    first, second = orchestrator(store), orchestrator(store)
    await start(first)
    [(_, charge)] = await drain(store)
    await second.repository.load(ARN)  # second holds a cached copy at the same version
    await first.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {}}))
    await second.handle_envelope(reply(charge, TaskSucceededReply.KIND, {"output": {}}))
    types = [e.type for e in await store.read(ARN)]
    assert types.count("LambdaFunctionSucceeded") == 1
    assert len([t for t, _ in await drain(store) if t == "t.commands.shipping"]) == 1


class HistoryTopicFailsOnce(Topics):
    """Topics whose history topic cannot be named once: planning a decision's writes fails."""

    armed: bool = False

    def history(self) -> str:
        if HistoryTopicFailsOnce.armed:
            HistoryTopicFailsOnce.armed = False
            raise ValueError("the history topic cannot be named just now")
        return super().history()


async def test_a_decision_whose_writes_cannot_be_planned_is_decided_again_from_the_store(
    store: InMemoryStore,
) -> None:
    orch = Orchestrator(store=store, topics=HistoryTopicFailsOnce("t"), clock=VirtualClock())
    await start(orch)
    [(_, charge)] = await drain(store)
    answer = reply(charge, TaskSucceededReply.KIND, {"output": {"paid": 10}})

    HistoryTopicFailsOnce.armed = True
    with pytest.raises(ValueError, match="history topic"):
        await orch.handle_envelope(answer)
    # Nothing was stored; the redelivered reply must move the execution on, not be taken
    # for one already handled by a state only this process's memory holds.
    await orch.handle_envelope(answer)

    [(topic, ship)] = await drain(store)
    assert topic == "t.commands.shipping"
    assert TaskCommand.model_validate(ship.payload).input == {"order": 1, "payment": {"paid": 10}}
