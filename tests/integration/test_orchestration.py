"""The orchestrator over a real broker: executions driven through workers and the API."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime
from typing import Any

import pytest

from stepstream.messaging.kafka import KafkaSettings
from stepstream.worker import CommandContext
from tests.integration.harness import Ledger, System, eventually, running_system

FN = "arn:aws:lambda:us-east-1:123456789012:function:"

PIPELINE = {
    "StartAt": "Double",
    "States": {
        "Double": {
            "Type": "Task",
            "Resource": FN + "double",
            "ResultPath": "$.doubled",
            "Next": "Add",
        },
        "Add": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "add", "Payload": {"a.$": "$.doubled", "b.$": "$.n"}},
            "ResultSelector": {"sum.$": "$.Payload"},
            "ResultPath": "$.added",
            "Retry": [
                {
                    "ErrorEquals": ["Flaky"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 1.0,
                    "MaxAttempts": 3,
                }
            ],
            "End": True,
        },
    },
}
BINDINGS = {"functions": {"double": "calc", "add": "calc"}}


async def calculator(system: System, ledger: Ledger, flaky_times: int = 0) -> None:
    attempts: dict[str, int] = {}

    async def double(command: CommandContext) -> Any:
        return ledger.once(command.idempotency_key, lambda: command.input["n"] * 2)

    async def add(command: CommandContext) -> Any:
        key = command.idempotency_key or ""
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] <= flaky_times:
            raise Flaky(f"attempt {attempts[key]} of {key}")
        return ledger.once(key, lambda: command.input["a"] + command.input["b"])

    await system.add_worker("calc", {"double": double, "add": add})


class Flaky(Exception):
    pass


async def test_an_execution_runs_through_a_worker(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Calc", PIPELINE, BINDINGS)
        await calculator(system, Ledger())
        arn = await system.start("Calc", "e1", {"n": 5})
        described = await system.finished(arn)
        assert described["status"] == "SUCCEEDED"
        assert described["output"] == '{"n":5,"doubled":10,"added":{"sum":15}}'
        types = [e["type"] for e in await system.history(arn)]
        assert types[:4] == [
            "ExecutionStarted",
            "TaskStateEntered",
            "LambdaFunctionScheduled",
            "LambdaFunctionStarted",
        ]
        assert types[-1] == "ExecutionSucceeded"


async def test_failed_attempts_are_retried_after_a_real_back_off(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Calc", PIPELINE, BINDINGS)
        await calculator(system, Ledger(), flaky_times=2)
        arn = await system.start("Calc", "e1", {"n": 1})
        assert (await system.finished(arn))["status"] == "SUCCEEDED"
        history = await system.history(arn)
        failed = [e for e in history if e["type"] == "TaskFailed"]
        assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["Flaky", "Flaky"]
        scheduled = [
            datetime.fromisoformat(e["timestamp"]) for e in history if e["type"] == "TaskScheduled"
        ]
        assert len(scheduled) == 3
        assert all(
            (later - earlier).total_seconds() >= 1.0
            for earlier, later in itertools.pairwise(scheduled)
        )


CALLBACK = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {
                "QueueUrl": "approvals",
                "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$"},
            },
            "ResultPath": "$.approval",
            "End": True,
        }
    },
}
CALLBACK_BINDINGS = {
    "resources": {"arn:aws:states:::sqs:sendMessage.waitForTaskToken": {"topic": "human-review"}}
}


async def test_a_task_waits_for_its_token_to_be_answered_through_the_api(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Approvals", CALLBACK, CALLBACK_BINDINGS)
        arn = await system.start("Approvals", "a1", {"id": 7})

        async def token() -> str | None:
            for event in await system.history(arn):
                if event["type"] == "TaskScheduled":
                    return str(event["taskScheduledEventDetails"]["taskToken"])
            return None

        await system.client.send_task_success(await eventually(token), '{"approved": true}')
        described = await system.finished(arn)
        assert described["status"] == "SUCCEEDED"
        assert described["output"] == '{"id":7,"approval":{"approved":true}}'


TIMING_OUT = {
    "StartAt": "Slow",
    "States": {
        "Slow": {
            "Type": "Task",
            "Resource": FN + "slow",
            "TimeoutSeconds": 1,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TooSlow"}],
            "End": True,
        },
        "TooSlow": {
            "Type": "Fail",
            "Error": "TooSlow",
            "Cause": "the worker did not answer in time",
        },
    },
}


async def test_a_task_that_never_answers_times_out(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Slow", TIMING_OUT, {"functions": {"slow": "sloth"}})
        release = asyncio.Event()

        async def slow(command: CommandContext) -> Any:
            await release.wait()
            return "too late"

        await system.add_worker("sloth", {"slow": slow})
        try:
            arn = await system.start("Slow", "s1", {})
            described = await system.finished(arn)
        finally:
            release.set()
        assert described["status"] == "FAILED"
        assert described["error"] == "TooSlow"
        # The worker stops the handler at the deadline without answering; the
        # orchestrator's timer records the time-out, as Step Functions does.
        timed_out = [e for e in await system.history(arn) if e["type"] == "LambdaFunctionTimedOut"]
        assert [e["lambdaFunctionTimedOutEventDetails"]["error"] for e in timed_out] == [
            "States.Timeout"
        ]


async def test_starting_twice_with_one_name(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    from stepstream.api.errors import ApiError

    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Approvals", CALLBACK, CALLBACK_BINDINGS)
        first = await system.start("Approvals", "same", {"id": 1})
        assert await system.start("Approvals", "same", {"id": 1}) == first
        with pytest.raises(ApiError) as refused:
            await system.start("Approvals", "same", {"id": 2})
        assert refused.value.code == "ExecutionAlreadyExists"
        stopped = await system.client.stop_execution(first, error="Cancelled", cause="by the test")
        assert stopped["stopDate"] is not None
        described = await system.client.describe_execution(first)
        assert described["status"] == "ABORTED"
