"""RedriveExecution over the real broker: through the client, and across orchestrator crashes."""

from __future__ import annotations

import asyncio
import io
import json
import signal
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stepstream.api.errors import ExecutionDoesNotExist, ExecutionNotRedrivable
from stepstream.messaging.kafka import KafkaSettings
from stepstream.worker import CommandContext
from tests.integration.harness import (
    Ledger,
    System,
    client_for,
    orchestrator_process,
    running_system,
)
from tests.integration.test_orchestration import BINDINGS, PIPELINE
from tests.review.support import advertise_stack, stepstream


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


async def test_the_command_line_redrives_one_execution_or_a_chosen_batch(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = str(tmp_path)
    failing = {1: Broken, 2: Broken, 3: Unplugged}  # by n: what its first add raises
    attempts: Counter[int] = Counter()

    async def double(command: CommandContext) -> Any:
        return command.input["n"] * 2

    async def add(command: CommandContext) -> Any:
        n = command.input["b"]
        attempts[n] += 1
        if n in failing and attempts[n] == 1:
            raise failing[n](f"first add of {n}")
        return command.input["a"] + n

    async with running_system(kafka, store_url, prefix) as system:
        advertise_stack(tmp_path, kafka, store_url, prefix)
        await system.register("Calc", PIPELINE, BINDINGS)
        await system.add_worker("calc", {"double": double, "add": add})
        before = datetime.now(UTC)
        arns = {n: await system.start("Calc", f"c{n}", {"n": n}) for n in (1, 2, 3, 4)}
        for arn in arns.values():
            await system.finished(arn)

        code, out, _ = await stepstream(capsys, "redrive-execution", arns[3], "--data-dir", folder)
        assert code == 0
        assert datetime.fromisoformat(json.loads(out)["redriveDate"]) >= before
        assert (await system.finished(arns[3]))["status"] == "SUCCEEDED"

        monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
        code, out, err = await stepstream(
            capsys, "redrive-executions", "--state-machine", "Calc", "--error", "Broken",
            "--data-dir", folder,
        )  # fmt: skip
        assert code == 0
        assert "2 executions to redrive" in out and arns[1] in out and arns[2] in out
        assert arns[3] not in out and "Redrive 2 executions? [y/N]" in err
        assert {(await system.client.describe_execution(arns[n]))["status"] for n in (1, 2)} == {
            "FAILED"
        }

        code, out, _ = await stepstream(
            capsys, "redrive-executions", "--state-machine", "Calc", "--until",
            before.isoformat(), "--data-dir", folder,
        )  # fmt: skip
        assert (code, out.splitlines()[0]) == (0, "0 executions to redrive")

        code, out, _ = await stepstream(
            capsys, "redrive-executions", "--state-machine", "Calc", "--status", "FAILED",
            "--since", before.isoformat(), "--yes", "--json", "--data-dir", folder,
        )  # fmt: skip
        listing, report = _two_json_documents(out)
        assert code == 0
        assert listing["count"] == 2
        assert sorted(r["executionArn"] for r in report) == sorted([arns[1], arns[2]])
        assert all("redriveDate" in r for r in report)
        for n in (1, 2):
            assert (await system.finished(arns[n]))["redriveCount"] == 1

        code, _, err = await stepstream(capsys, "redrive-execution", arns[4], "--data-dir", folder)
        assert code == 1
        assert json.loads(err)["error"] == "ExecutionNotRedrivable"


class Unplugged(Exception):
    pass


def _two_json_documents(text: str) -> tuple[Any, Any]:
    decoder = json.JSONDecoder()
    first, end = decoder.raw_decode(text)
    second, _ = decoder.raw_decode(text[end:].lstrip())
    return first, second
