"""A whole system under test: orchestrator, client and test workers on a real broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.orchestrator.app import OrchestratorSettings, serve
from stepstream.api.client import StepStreamClient
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topics import Topics
from stepstream.store.base import ExecutionStore
from stepstream.store.factory import open_store
from stepstream.worker import CommandContext, Worker, WorkerSettings


@dataclass
class System:
    client: StepStreamClient
    store: ExecutionStore
    topics: Topics
    kafka: KafkaSettings
    store_url: str
    workers: list[Worker] = field(default_factory=list)

    async def register(
        self, name: str, definition: dict[str, Any], bindings: dict[str, Any]
    ) -> None:
        await self.client.create_state_machine(name, json.dumps(definition), json.dumps(bindings))

    async def start(self, machine: str, name: str, execution_input: Any) -> str:
        started = await self.client.start_execution(machine, json.dumps(execution_input), name)
        return str(started["executionArn"])

    async def finished(self, arn: str, timeout: float = 30.0) -> dict[str, Any]:
        """The execution's description once it is no longer RUNNING.

        One still running after ``timeout`` fails naming its last events, so that a
        stuck execution shows where it waits.
        """
        try:
            return await eventually(
                lambda: self._described(arn, lambda d: d["status"] != "RUNNING"), timeout
            )
        except AssertionError:
            last: object = "(history unreadable)"
            with contextlib.suppress(Exception):
                history = await asyncio.wait_for(self.history(arn), 5.0)
                last = [(e["id"], e["type"]) for e in history[-4:]]
            raise AssertionError(
                f"{arn} still running after {timeout} s; last events {last}"
            ) from None

    async def _described(
        self, arn: str, done: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        with contextlib.suppress(Exception):
            described = await self.client.describe_execution(arn)
            return described if done(described) else None
        return None

    async def history(self, arn: str) -> list[dict[str, Any]]:
        return list((await self.client.get_execution_history(arn))["events"])

    async def add_worker(
        self, service: str, handlers: dict[str, Callable[[CommandContext], Awaitable[Any]]]
    ) -> Worker:
        worker = Worker(
            name=service, settings=WorkerSettings(kafka=self.kafka, topic_prefix=self.topics.prefix)
        )
        for command, handler in handlers.items():
            worker.handler(command)(handler)
        await worker.start()
        self.workers.append(worker)
        return worker


async def eventually(
    probe: Callable[[], Awaitable[Any]], timeout: float = 30.0, every: float = 0.05
) -> Any:
    """Poll `probe` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        # A probe that never returns fails here too, rather than holding the whole run.
        try:
            value = await asyncio.wait_for(probe(), max(deadline - loop.time(), every))
        except TimeoutError:
            raise AssertionError(f"condition not met within {timeout} s (probe hung)") from None
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(every)


def orchestrator_settings(store_url: str, prefix: str) -> OrchestratorSettings:
    return OrchestratorSettings(
        store_url=store_url, topic_prefix=prefix, timer_poll_seconds=0.02, broker_check_seconds=0.5
    )


def orchestrator_process(
    kafka: KafkaSettings,
    store_url: str,
    prefix: str,
    *,
    partitions: int = 1,
    log: Path | None = None,
    module: str = "services.orchestrator",
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """An orchestrator in a process of its own, to be killed and started again.

    `module` runs it (a test's variant of the orchestrator), with `env` added.
    """
    variables = {
        **os.environ,
        "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "STEPSTREAM_KAFKA_SESSION_TIMEOUT_MS": "2000",
        "STEPSTREAM_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
        "STEPSTREAM_STORE_URL": store_url,
        "STEPSTREAM_TOPIC_PREFIX": prefix,
        "STEPSTREAM_TIMER_POLL_SECONDS": "0.02",
        "STEPSTREAM_PARTITIONS": str(partitions),
        **(env or {}),
    }
    with contextlib.ExitStack() as files:
        stderr = subprocess.DEVNULL if log is None else files.enter_context(log.open("wb"))
        return subprocess.Popen(
            [sys.executable, "-m", module],
            env=variables,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


@contextlib.asynccontextmanager
async def client_for(kafka: KafkaSettings, store_url: str, prefix: str) -> AsyncIterator[System]:
    topics = Topics(prefix)
    await ensure_topics(kafka.bootstrap_servers, [TopicSpec(t) for t in topics.fixed()])
    store = await open_store(store_url)
    publisher = KafkaPublisher(settings=kafka)
    await publisher.start()
    client = StepStreamClient(
        store=store, publisher=publisher, topics=topics, bootstrap=kafka.bootstrap_servers
    )
    system = System(client, store, topics, kafka, store_url)
    try:
        yield system
    finally:
        for worker in system.workers:
            await worker.stop()
        await publisher.stop()
        await store.close()


@contextlib.asynccontextmanager
async def running_system(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> AsyncIterator[System]:
    """Client, store and an orchestrator running in this process."""
    async with client_for(kafka, store_url, prefix) as system:
        stop = asyncio.Event()
        orchestrator = asyncio.create_task(
            serve(orchestrator_settings(store_url, prefix), kafka, stop)
        )
        try:
            yield system
        finally:
            stop.set()
            await orchestrator


class Ledger:
    """What a test worker did, per idempotency key: proof that work happened once."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.effects: dict[str, Any] = {}

    def once(self, key: str | None, effect: Callable[[], Any]) -> Any:
        assert key is not None
        self.calls[key] += 1
        if key not in self.effects:
            self.effects[key] = effect()
        return self.effects[key]
