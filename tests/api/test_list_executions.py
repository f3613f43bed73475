"""list-executions pages as Step Functions does: maxResults, and a nextToken while more follow."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from stepstream import arns
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.topics import Topics
from stepstream.store import ExecutionRecord, ExecutionStatus, InMemoryStore, NewEvent

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture
async def client() -> AsyncIterator[StepStreamClient]:
    store = InMemoryStore()
    await store.open()
    for n in range(5):
        arn = arns.execution_arn("Orders", f"o{n}")
        record = ExecutionRecord(
            execution_arn=arn,
            state_machine_name="Orders",
            state_machine_version=1,
            name=f"o{n}",
            status=ExecutionStatus.RUNNING,
            input="{}",
            start_date=T0 + timedelta(seconds=n),
        )
        await store.append(arn, 0, [NewEvent("ExecutionStarted", {})], execution=record)
    yield StepStreamClient(store=store, publisher=FakeBus().publisher(), topics=Topics("t"))
    await store.close()


async def test_every_execution_comes_once_page_after_page(client: StepStreamClient) -> None:
    names: list[list[str]] = []
    token = None
    while True:
        page = await client.list_executions("Orders", limit=2, next_token=token)
        names.append([e["name"] for e in page["executions"]])
        token = page.get("nextToken")
        if token is None:
            break

    assert names == [["o4", "o3"], ["o2", "o1"], ["o0"]]


async def test_a_page_that_holds_the_rest_has_no_token(client: StepStreamClient) -> None:
    assert "nextToken" not in await client.list_executions(limit=5)


@pytest.mark.parametrize(
    "token", ["not base64 !", base64.urlsafe_b64encode(b'{"arn": "x"}').decode(), "e30="]
)
async def test_a_token_this_api_did_not_hand_out_is_refused(
    client: StepStreamClient, token: str
) -> None:
    with pytest.raises(ApiError) as refused:
        await client.list_executions(next_token=token)

    assert refused.value.code == "InvalidToken"


@pytest.mark.parametrize("limit", [0, 1001])
async def test_max_results_stays_within_what_step_functions_allows(
    client: StepStreamClient, limit: int
) -> None:
    with pytest.raises(ApiError, match="maxResults") as refused:
        await client.list_executions(limit=limit)

    assert refused.value.code == "InvalidArguments"
