"""Values nested too deeply for the messages that would carry them.

Whatever nests too deeply is refused where it comes in, with the reason: a start request
is set aside, a task's output fails the task (States.DataLimitExceeded, which a Catch can
route), and an execution whose own states build a value too deep to send fails with
States.Runtime. The orchestrator goes on with every other execution.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.asl.limits import MAX_NESTING
from stepstream.asl.ports import VirtualClock
from stepstream.messaging.contracts import TaskSucceededReply
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import MAX_NESTING as MESSAGE_NESTING
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.requests import RedriveExecution, StartExecution
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore

TOPICS = Topics("t")
LAMBDA = "arn:aws:lambda:us-east-1:1:function:work"

TASK = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": LAMBDA,
            "Catch": [{"ErrorEquals": ["States.DataLimitExceeded"], "Next": "TooDeep"}],
            "End": True,
        },
        "TooDeep": {"Type": "Fail", "Error": "Refused", "Cause": "the output was too deep"},
    },
}


def growing(levels: int, *, after_a_task: bool = True) -> dict[str, Any]:
    """A machine wrapping its state in one more object a turn, ``levels`` turns."""
    states: dict[str, Any] = {
        "Grow": {
            "Type": "Pass",
            "Parameters": {"inner.$": "$", "n.$": "States.MathAdd($.n, 1)"},
            "Next": "Enough",
        },
        "Enough": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": levels, "Next": "Done"}],
            "Default": "Grow",
        },
        "Done": {"Type": "Succeed"},
    }
    if not after_a_task:
        return {"StartAt": "Grow", "States": states}
    work = {"Type": "Task", "Resource": LAMBDA, "ResultPath": None, "Next": "Grow"}
    return {"StartAt": "Work", "States": {"Work": work, **states}}


# Deep enough for its messages to be refused by their readers, though it can still be
# written (the compiled encoder stops at 254); and far deeper, where it cannot.
GROWN_PAST_READERS = 245
GROWN_PAST_THE_ENCODER = 400
BINDINGS = {"functions": {"work": "workers"}}


def nested(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"v": value}
    return value


@pytest.fixture
async def store() -> Any:
    memory = InMemoryStore()
    await memory.open()
    machines = {
        "Task": TASK,
        "GrowPastReaders": growing(GROWN_PAST_READERS),
        "GrowPastTheEncoder": growing(GROWN_PAST_THE_ENCODER),
        "GrowAtOnce": growing(GROWN_PAST_READERS, after_a_task=False),
    }
    for name, definition in machines.items():
        await memory.put_state_machine(name, json.dumps(definition), json.dumps(BINDINGS))
    yield memory
    await memory.close()


def orchestrator(store: InMemoryStore) -> Orchestrator:
    return Orchestrator(store=store, topics=TOPICS, clock=VirtualClock())


def start_request(machine: str, name: str, execution_input: Any) -> Envelope:
    # model_construct: what another process could put on the bus, unchecked by this one.
    request = StartExecution.model_construct(
        state_machine=machine, name=name, input=execution_input
    )
    return Envelope(
        kind=StartExecution.KIND,
        execution_id=arns.execution_arn(machine, name),
        payload=request.model_dump(),
    )


async def command_sent(store: InMemoryStore) -> Envelope:
    pending = await store.pending_outbox(1000)
    await store.mark_published([p.id for p in pending])
    [command] = [decode(p.message.value) for p in pending if p.message.topic != TOPICS.history()]
    return command


def succeeded(command: Envelope, output: Any) -> Envelope:
    return Envelope(
        kind=TaskSucceededReply.KIND,
        execution_id=command.execution_id,
        command_id=command.command_id,
        payload={"output": output},
    )


async def test_a_start_whose_input_nests_too_deeply_is_set_aside(store: InMemoryStore) -> None:
    with pytest.raises(PoisonMessage, match=f"nests more than {MAX_NESTING} levels deep"):
        await orchestrator(store).handle_envelope(
            start_request("Task", "deep", nested(MAX_NESTING + 1))
        )

    assert await store.list_executions() == []


async def test_a_task_output_too_deep_fails_the_task_for_its_catch(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await orch.handle_envelope(start_request("Task", "o-1", {"order": 1}))
    command = await command_sent(store)

    await orch.handle_envelope(succeeded(command, nested(MAX_NESTING + 1)))

    record = await store.get_execution(arns.execution_arn("Task", "o-1"))
    assert record is not None
    assert (record.status, record.error) == ("FAILED", "Refused")  # through the Catch


async def test_an_output_at_the_limit_is_taken(store: InMemoryStore) -> None:
    orch = orchestrator(store)
    await orch.handle_envelope(start_request("Task", "o-2", {"order": 2}))
    command = await command_sent(store)

    await orch.handle_envelope(succeeded(command, nested(MAX_NESTING - 1)))

    record = await store.get_execution(arns.execution_arn("Task", "o-2"))
    assert record is not None and record.status == "SUCCEEDED"


@pytest.mark.parametrize(
    ("machine", "why"),
    [
        ("GrowPastReaders", f"would nest more than {MESSAGE_NESTING} levels deep"),
        ("GrowPastTheEncoder", "Maximum serialization depth exceeded"),
    ],
)
async def test_an_execution_that_builds_a_value_too_deep_to_send_fails(
    store: InMemoryStore, machine: str, why: str
) -> None:
    orch = orchestrator(store)
    arn = arns.execution_arn(machine, "g-1")
    await orch.handle_envelope(start_request(machine, "g-1", {"n": 0}))
    command = await command_sent(store)

    await orch.handle_envelope(succeeded(command, {"done": True}))

    record = await store.get_execution(arn)
    assert record is not None
    assert (record.status, record.error) == ("FAILED", "States.Runtime")
    assert record.cause is not None and why in record.cause
    # What was stored is what readers can take: every message decodes.
    for pending in await store.pending_outbox(1000):
        decode(pending.message.value)
    # And the orchestrator goes on with others.
    await orch.handle_envelope(start_request("Task", "after", {"order": 3}))
    assert await store.get_execution(arns.execution_arn("Task", "after")) is not None


async def test_a_first_decision_too_deep_to_send_sets_the_start_aside(
    store: InMemoryStore,
) -> None:
    with pytest.raises(PoisonMessage, match="the execution cannot start"):
        await orchestrator(store).handle_envelope(start_request("GrowAtOnce", "g-2", {"n": 0}))

    assert await store.list_executions() == []


async def test_a_redriven_execution_that_builds_it_again_fails_again(
    store: InMemoryStore,
) -> None:
    orch = orchestrator(store)
    arn = arns.execution_arn("GrowPastReaders", "g-3")
    await orch.handle_envelope(start_request("GrowPastReaders", "g-3", {"n": 0}))
    await orch.handle_envelope(succeeded(await command_sent(store), {"done": True}))

    redrive = {"client_token": "again"}
    await orch.handle_envelope(
        Envelope(kind=RedriveExecution.KIND, execution_id=arn, payload=redrive)
    )
    await orch.handle_envelope(succeeded(await command_sent(store), {"done": True}))

    record = await store.get_execution(arn)
    assert record is not None
    assert (record.status, record.error, record.redrive_count) == ("FAILED", "States.Runtime", 1)
