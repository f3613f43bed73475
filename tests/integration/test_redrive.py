"""RedriveExecution over the real broker: through the client, and across orchestrator crashes."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from typing import Any

import pytest

from stepstream.api.errors import ExecutionDoesNotExist, ExecutionNotRedrivable
from stepstream.messaging.kafka import KafkaSettings
from stepstream.worker import CommandContext
from tests.integration.harness import Ledger, System, client_for, running_system
from tests.integration.test_orchestration import BINDINGS, PIPELINE
from tests.integration.test_resilience import orchestrator_process


class Broken(Exception):
    """Not retried by PIPELINE (it retries Flaky only): the execution fails."""


class Calculator:
    """PIPELINE's workers; `add` fails its first attempt, and may be held when asked again."""

    def __init__(self) -> None:
        self.ledger = Ledger()
        self.add_attempts = 0
        self.asked_again = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()

    async def double(self, command: CommandContext) -> Any:
        return self.ledger.once(command.idempotency_key, lambda: command.input["n"] * 2)

    async def add(self, command: CommandContext) -> Any:
        self.add_attempts += 1
        if self.add_attempts == 1:
            raise Broken("the adder was unplugged")
        self.asked_again.set()
        await self.release.wait()
        key = command.idempotency_key
        return self.ledger.once(key, lambda: command.input["a"] + command.input["b"])

    async def serve(self, system: System) -> None:
        await system.add_worker("calc", {"double": self.double, "add": self.add})


def types(history: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in history]


async def test_a_failed_execution_is_redriven_through_the_client_and_succeeds(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Calc", PIPELINE, BINDINGS)
        calculator = Calculator()
        await calculator.serve(system)
        arn = await system.start("Calc", "r1", {"n": 4})
        failed = await system.finished(arn)
        assert (failed["status"], failed["error"]) == ("FAILED", "Broken")
        assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
        assert "redriveStatusReason" not in failed

        redriven = await system.client.redrive_execution(arn, client_token="first-try")

        assert isinstance(redriven["redriveDate"], datetime)
        done = await system.finished(arn)
        assert (done["status"], done["output"]) == (
            "SUCCEEDED",
            '{"n":4,"doubled":8,"added":{"sum":12}}',
        )
        assert done["executionArn"] == arn and done["input"] == failed["input"]
        assert done["redriveCount"] == 1
        assert done["redriveDate"] == redriven["redriveDate"].isoformat()
        assert (done["redriveStatus"], done["redriveStatusReason"]) == (
            "NOT_REDRIVABLE",
            "Execution is SUCCEEDED and cannot be redriven",
        )
        history = await system.history(arn)
        [event] = [e for e in history if e["type"] == "ExecutionRedriven"]
        assert event["executionRedrivenEventDetails"] == {"redriveCount": 1}
        # Double succeeded before the failure and was not asked again.
        assert types(history).count("LambdaFunctionScheduled") == 1
        assert calculator.ledger.calls[f"{arn}##Double"] == 1

        # The same token again is the same redrive; another one is refused.
        again = await system.client.redrive_execution(arn, client_token="first-try")
        assert again == redriven
        with pytest.raises(ExecutionNotRedrivable, match="SUCCEEDED and cannot be redriven"):
            await system.client.redrive_execution(arn, client_token="second-try")
        assert types(await system.history(arn)).count("ExecutionRedriven") == 1
        with pytest.raises(ExecutionDoesNotExist):
            await system.client.redrive_execution(arn + "-nobody")

        listed = await system.client.list_executions("Calc", redrive_filter="REDRIVEN")
        never = await system.client.list_executions("Calc", redrive_filter="NOT_REDRIVEN")
        assert [e["executionArn"] for e in listed["executions"]] == [arn]
        assert listed["executions"][0]["redriveCount"] == 1
        assert never["executions"] == []


async def test_a_redrive_survives_the_orchestrator_being_killed_before_and_after_it(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with client_for(kafka, store_url, prefix) as system:
        calculator = Calculator()
        first = orchestrator_process(kafka, store_url, prefix)
        processes = [first]
        try:
            await system.register("Calc", PIPELINE, BINDINGS)
            await calculator.serve(system)
            arn = await system.start("Calc", "r1", {"n": 4})
            assert (await system.finished(arn))["status"] == "FAILED"
            first.send_signal(signal.SIGKILL)
            first.wait()

            # Asked while no orchestrator runs: the client keeps asking until one records it.
            calculator.release.clear()
            asking = asyncio.create_task(system.client.redrive_execution(arn))
            processes.append(orchestrator_process(kafka, store_url, prefix))
            await asking
            # Killed while the redriven task is in the worker's hands.
            await asyncio.wait_for(calculator.asked_again.wait(), 30)
            processes[-1].send_signal(signal.SIGKILL)
            processes[-1].wait()
            processes.append(orchestrator_process(kafka, store_url, prefix))
            calculator.release.set()

            done = await system.finished(arn, timeout=60)
            assert (done["status"], done["redriveCount"]) == ("SUCCEEDED", 1)
            history = types(await system.history(arn))
            assert history.count("ExecutionRedriven") == 1
            assert history.count("ExecutionSucceeded") == 1
            assert history.count("ExecutionFailed") == 1
            assert set(calculator.ledger.effects) == {f"{arn}##Double", f"{arn}##Add"}
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
