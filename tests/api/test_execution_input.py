"""The client refuses what no reader could carry on, naming why, at once.

Before, an input like ``{"x": 1e999}`` parsed to an infinity that no message may carry,
and the client kept sending the start until its time ran out, then answered that the
caller should try again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.topics import Topics
from stepstream.store import ExecutionRecord, ExecutionStatus, InMemoryStore

PASS = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}


@pytest.fixture
async def client() -> AsyncIterator[StepStreamClient]:
    store = InMemoryStore()
    await store.open()
    await store.put_state_machine("Orders", json.dumps(PASS), "{}")
    publisher = FakeBus().publisher()
    await publisher.start()
    yield StepStreamClient(store=store, publisher=publisher, topics=Topics("t"))
    await publisher.stop()
    await store.close()


@pytest.mark.parametrize(
    ("input_text", "why"),
    [
        ('{"x": 1e999}', "the number 1e999 is too large for a 64-bit float"),
        ('{"x": NaN}', "NaN is not a JSON number"),
        ('{"x": -Infinity}', "-Infinity is not a JSON number"),
        ('{"x": 1' + "0" * 5_000 + "}", "has a number with more digits than can be read"),
        # Past Python's parser or past the limit, depending on the stack: refused either way.
        ("[" * 50_000 + "]" * 50_000, "nests"),
        ("[" * 191 + "]" * 191, "nests more than 190 levels deep"),
        ('{"x": "\\ud800"}', "cannot be written as JSON"),
    ],
)
async def test_an_input_no_reader_could_carry_on_is_refused_at_once(
    client: StepStreamClient, input_text: str, why: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await client.start_execution("Orders", input_text, "o-1")

    assert refused.value.code == "InvalidExecutionInput"
    assert why in str(refused.value)


async def test_a_request_no_message_can_carry_is_refused_at_once_not_sent_again(
    client: StepStreamClient,
) -> None:
    # A running execution to stop; the store alone stands in for the orchestrator.
    store = client.store
    assert isinstance(store, InMemoryStore)
    arn = "arn:aws:states:local:000000000000:execution:Orders:o-2"
    record = ExecutionRecord(
        execution_arn=arn,
        state_machine_name="Orders",
        state_machine_version=1,
        name="o-2",
        status=ExecutionStatus.RUNNING,
        input="{}",
        start_date=datetime.now(UTC),
    )
    await store.append(arn, 0, [], execution=record)

    with pytest.raises(ApiError) as refused:
        # An unpaired surrogate: UTF-8, and so no message, can carry it.
        await asyncio.wait_for(client.stop_execution(arn, cause="\ud800"), timeout=5)

    assert refused.value.code == "ValidationException"
    assert f"the stop of '{arn}' cannot be sent" in str(refused.value)
