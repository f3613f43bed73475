"""Crashes, bad input, shared work: a killed orchestrator, two at once, an empty broker, poison."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from pathlib import Path
from typing import Any

from stepstream.broker import EmbeddedBroker
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.dead_letter import DeadLetter
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings, KafkaSubscriber
from stepstream.messaging.topics import Topics
from tests.integration.harness import (
    Ledger,
    System,
    client_for,
    eventually,
    orchestrator_process,
    running_system,
)
from tests.integration.test_orchestration import BINDINGS, PIPELINE, calculator

EXECUTIONS = 30


async def all_finished(
    system: System, arns: list[str], timeout: float = 60.0
) -> list[dict[str, Any]]:
    return [await system.finished(arn, timeout) for arn in arns]


async def assert_each_ran_once(system: System, arns: list[str], ledger: Ledger) -> None:
    for arn, described in zip(arns, await all_finished(system, arns), strict=True):
        assert described["status"] == "SUCCEEDED", described
        types = [e["type"] for e in await system.history(arn)]
        assert types.count("ExecutionSucceeded") == 1
        assert types.count("ExecutionStarted") == 1
    # Every state of every execution did its work once, however often it was asked.
    assert len(ledger.effects) == 2 * len(arns)


async def test_an_orchestrator_killed_mid_run_resumes_every_execution_exactly_once(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with client_for(kafka, store_url, prefix) as system:
        first = orchestrator_process(kafka, store_url, prefix)
        try:
            await system.register("Calc", PIPELINE, BINDINGS)  # the orchestrator registers it
            ledger = Ledger()
            await calculator(system, ledger)
            arns = [await system.start("Calc", f"e{i}", {"n": i}) for i in range(EXECUTIONS)]

            async def some_done() -> bool:
                done = await system.client.list_executions("Calc", "SUCCEEDED")
                return len(done["executions"]) >= 3

            await eventually(some_done)
            first.send_signal(signal.SIGKILL)
            first.wait()
            second = orchestrator_process(kafka, store_url, prefix)
            try:
                await assert_each_ran_once(system, arns, ledger)
            finally:
                second.terminate()
                second.wait()
        finally:
            if first.poll() is None:
                first.kill()


async def test_two_orchestrators_share_the_executions_by_partition(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    topics = Topics(prefix)
    specs = [TopicSpec(t, partitions=2) for t in (*topics.fixed(), topics.commands("calc"))]
    await ensure_topics(kafka.bootstrap_servers, specs)
    logs = [tmp_path / f"orchestrator-{n}.log" for n in range(2)]
    processes = [
        orchestrator_process(kafka, store_url, prefix, partitions=2, log=log) for log in logs
    ]
    try:
        async with client_for(kafka, store_url, prefix) as system:
            await system.register("Calc", PIPELINE, BINDINGS)
            ledger = Ledger()
            # Each execution's second state fails once, so its retry waits on a timer:
            # the replica that owns the execution fires it.
            await calculator(system, ledger, flaky_times=1)
            # Keyed by execution, these spread over both partitions of the requests topic.
            arns = [await system.start("Calc", f"s{i}", {"n": i}) for i in range(EXECUTIONS)]
            await assert_each_ran_once(system, arns, ledger)
    finally:
        # Both at once: one stopping alone would hand its partitions to the other.
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait()
    owned = [last_assignment(log, topics.requests()) for log in logs]
    assert sorted(owned, key=sorted) == [{0}, {1}], owned


def last_assignment(log: Path, topic: str) -> set[int]:
    """The partitions of `topic` an orchestrator last said it was given (the client's log)."""
    assignments = re.findall(r"assigned partitions \{(.*)\} for group", log.read_text())
    assert assignments, f"no partition assignment in {log}"
    return {
        int(n) for n in re.findall(rf"topic='{re.escape(topic)}', partition=(\d+)", assignments[-1])
    }


async def test_a_broker_that_comes_back_empty_loses_no_execution(
    store_url: str, prefix: str
) -> None:
    broker = EmbeddedBroker()
    await broker.start()
    kafka = KafkaSettings(
        bootstrap_servers=broker.bootstrap_servers,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
    )
    try:
        async with running_system(kafka, store_url, prefix) as system:
            await system.register("Calc", PIPELINE, BINDINGS)
            arns = [await system.start("Calc", f"w{i}", {"n": i}) for i in range(5)]
            # Commands are waiting in the broker for a worker that is not there yet.
            await eventually(lambda: _all_scheduled(system, arns))
            await broker.stop()
            await broker.start()  # same port, nothing in it
            ledger = Ledger()
            await calculator(system, ledger)
            await assert_each_ran_once(system, arns, ledger)
    finally:
        await broker.stop()


async def _all_scheduled(system: System, arns: list[str]) -> bool:
    for arn in arns:
        types = [e["type"] for e in await system.history(arn)]
        if "LambdaFunctionScheduled" not in types:
            return False
    return True


async def test_a_poison_message_is_set_aside_and_the_next_one_served(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Calc", PIPELINE, BINDINGS)
        await calculator(system, Ledger())
        publisher = KafkaPublisher(settings=kafka)
        await publisher.start()
        try:
            await publisher.publish_raw(system.topics.requests(), b"x", b"{not json", ())
        finally:
            await publisher.stop()
        arn = await system.start("Calc", "after-poison", {"n": 2})
        assert (await system.finished(arn))["status"] == "SUCCEEDED"
        letters = KafkaSubscriber(
            settings=kafka, topics=[system.topics.dead_letter()], group_id=f"{prefix}.inspector"
        )
        await letters.start()
        try:
            record = await asyncio.wait_for(anext(aiter(letters)), 20)
        finally:
            await letters.stop()
        letter = DeadLetter.from_record(record)
        assert letter.source_topic == system.topics.requests()
        assert "not JSON" in letter.reason
        assert record.value == b"{not json"


async def test_the_same_flow_on_postgresql(
    kafka: KafkaSettings, postgres_url: str, prefix: str
) -> None:
    async with running_system(kafka, postgres_url, prefix) as system:
        await system.register("Calc", PIPELINE, BINDINGS)
        ledger = Ledger()
        await calculator(system, ledger)
        arns = [await system.start("Calc", f"pg{i}", {"n": i}) for i in range(5)]
        await assert_each_ran_once(system, arns, ledger)
        assert json.loads((await system.client.describe_execution(arns[3]))["output"])["added"] == {
            "sum": 9
        }
