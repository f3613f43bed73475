"""A NUL character in free text from outside, on both stores.

JSON carries NUL (``\\u0000``) but PostgreSQL's text cannot hold it: a task failure
whose cause held one failed the orchestrator's append on every delivery, and the
orchestrator stopped on it. Error names and causes from the wire have each NUL replaced
by U+FFFD; a definition holding one is refused when it is registered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.orchestrator.orchestrator import Orchestrator
from stepstream import arns
from stepstream.asl.ports import VirtualClock
from stepstream.asl.validation import InvalidDefinition
from stepstream.messaging.contracts import TaskFailedReply
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.requests import StartExecution, StopExecution
from stepstream.messaging.topics import Topics
from stepstream.registration import check_state_machine
from stepstream.store.base import ExecutionStore
from stepstream.store.factory import open_store
from tests.databases import first_reachable_postgres, fresh_schema

TOPICS = Topics("t")
WORK = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:1:function:work",
            "End": True,
        }
    },
}
BINDINGS = json.dumps({"functions": {"work": "workers"}})


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ExecutionStore]:
    if request.param == "sqlite":
        opened = await open_store(f"sqlite:///{tmp_path / 'store.db'}")
        yield opened
        await opened.close()
        return
    url, why = await first_reachable_postgres()
    if url is None:
        pytest.skip(f"PostgreSQL test server unreachable ({why})")
    async with fresh_schema(url, "ss_nul") as schema:
        opened = await open_store(f"{url}?schema={schema}")
        yield opened
        await opened.close()


async def started(store: ExecutionStore, name: str) -> tuple[Orchestrator, Envelope]:
    """An orchestrator with execution ``name`` started, and the command it sent."""
    await store.put_state_machine("Work", json.dumps(WORK), BINDINGS)
    orchestrator = Orchestrator(store=store, topics=TOPICS, clock=VirtualClock())
    request = StartExecution(state_machine="Work", name=name, input={"note": "a\u0000b"})
    arn = arns.execution_arn("Work", name)
    await orchestrator.handle_envelope(
        Envelope(kind=StartExecution.KIND, execution_id=arn, payload=request.model_dump())
    )
    pending = await store.pending_outbox(100)
    [command] = [decode(p.message.value) for p in pending if p.message.topic != TOPICS.history()]
    return orchestrator, command


def from_the_wire(envelope: Envelope) -> Envelope:
    return decode(envelope.to_bytes())


async def test_a_failure_whose_error_and_cause_hold_nul_is_recorded(store: ExecutionStore) -> None:
    orchestrator, command = await started(store, "f-1")
    payload: dict[str, Any] = {"error": "Bad\u0000Thing", "cause": "line\u0000break"}
    failure = Envelope(
        kind=TaskFailedReply.KIND,
        execution_id=command.execution_id,
        command_id=command.command_id,
        payload=payload,
    )

    await orchestrator.handle_envelope(from_the_wire(failure))

    record = await store.get_execution(command.execution_id)
    assert record is not None
    assert (record.status, record.error, record.cause) == (
        "FAILED",
        "Bad\ufffdThing",
        "line\ufffdbreak",
    )
    # The input keeps its NUL: it is stored as JSON, where NUL is written \u0000.
    assert json.loads(record.input) == {"note": "a\u0000b"}


async def test_a_stop_whose_cause_holds_nul_is_recorded(store: ExecutionStore) -> None:
    orchestrator, command = await started(store, "s-1")
    stop = StopExecution(error="Stop\u0000ped", cause="by\u0000hand")

    await orchestrator.handle_envelope(
        from_the_wire(
            Envelope(
                kind=StopExecution.KIND,
                execution_id=command.execution_id,
                payload=stop.model_dump(),
            )
        )
    )

    record = await store.get_execution(command.execution_id)
    assert record is not None
    assert (record.status, record.error, record.cause) == (
        "ABORTED",
        "Stop\ufffdped",
        "by\ufffdhand",
    )


def test_a_definition_holding_nul_is_refused_at_registration() -> None:
    failing = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Cause": "x\u0000y"}}}

    with pytest.raises(InvalidDefinition, match="NUL character"):
        check_state_machine("Nul", json.dumps(failing), "{}")


def test_text_that_spells_the_escape_is_only_text() -> None:
    spelt = {"StartAt": "No", "States": {"No": {"Type": "Fail", "Cause": "\\u0000"}}}

    check_state_machine("Spelt", json.dumps(spelt), "{}")
