"""Killed inside large batches: crash safety holds however much is in flight at once.

The orchestrator's intake hands hundreds of records of one fetch to their handlers at
once, the SQLite store commits the appends they queue in one transaction, and the relay
publishes the outbox rows of a whole commit together. A kill -9 in the middle of that
loses nothing and does nothing twice.

The orchestrators killed run with their relay pausing after the broker acknowledged a
batch and before the store marked it published (``tests.integration.paused_relay``),
and each kill waits for that pause: so every kill leaves commands sent and not marked,
which the next orchestrator sends again, and the workers' idempotency is put to the test
every run, not only when a kill happens to fall in a window a fraction of a millisecond
wide.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from stepstream.messaging.kafka import KafkaSettings
from stepstream.store.base import ExecutionStore
from stepstream.store.records import ExecutionStatus
from tests.integration.harness import Ledger, System, client_for, eventually, orchestrator_process
from tests.integration.test_orchestration import BINDINGS, PIPELINE, calculator

EXECUTIONS = 400
TASKS = 2  # PIPELINE's Double and Add
EVERYTHING = 10 * EXECUTIONS * TASKS  # a page larger than all there is to list
LARGE = EXECUTIONS // 8  # a batch this large is in flight at every kill

# How many executions are recorded before each kill: the first kill comes while the
# start requests are being recorded; the next two as soon as the orchestrator started in
# place of the one killed pauses with a large backlog, the rows its predecessor left
# unmarked among them, being sent again. (Counting finished executions instead once
# waited in vain: with the relay pausing, executions finish in waves of a hundred and
# more, and a wave could take the count past its mark and every execution to its end.)
KILLS_AFTER_STARTED = [EXECUTIONS // 4, 0, 0]


async def count(store: ExecutionStore, status: ExecutionStatus | None) -> int:
    return len(await store.list_executions("Calc", status, limit=EVERYTHING))


async def large_batch_in_flight(store: ExecutionStore, started: int, paused: Path) -> bool:
    """Whether `started` executions are recorded and a large batch is in flight.

    In flight: the relay paused between publishing a batch and marking it, and an eighth
    of the executions' worth or more of committed messages not yet marked as published.
    """
    if not paused.exists() or await count(store, None) < started:
        return False
    unpublished = await store.pending_outbox(LARGE)
    return len(unpublished) >= LARGE and paused.exists()


async def all_succeeded(store: ExecutionStore) -> bool:
    return await count(store, ExecutionStatus.SUCCEEDED) == EXECUTIONS


def kill(process: subprocess.Popen[bytes]) -> None:
    process.kill()  # SIGKILL: no shutdown code runs
    process.wait()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> str:
    """A fresh store of each backend: a SQLite file, a PostgreSQL schema."""
    fixture = "store_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


async def test_an_orchestrator_killed_inside_large_batches_loses_nothing_and_does_nothing_twice(
    kafka: KafkaSettings, url: str, prefix: str, tmp_path: Path
) -> None:
    paused = tmp_path / "relay-paused"
    pausing = partial(
        orchestrator_process,
        kafka,
        url,
        prefix,
        module="tests.integration.paused_relay",
        env={"STEPSTREAM_TEST_PAUSE_MARKER": str(paused)},
    )
    async with client_for(kafka, url, prefix) as system:
        processes = [pausing()]
        try:
            await system.register("Calc", PIPELINE, BINDINGS)
            ledger = Ledger()
            await calculator(system, ledger)
            starting = asyncio.gather(
                *(system.start("Calc", f"k{i}", {"n": i}) for i in range(EXECUTIONS))
            )
            for started in KILLS_AFTER_STARTED:
                if processes[-1].poll() is not None:  # a new orchestrator for the one killed
                    processes.append(pausing())
                # Killed the moment the store shows a large batch under way.
                in_flight = partial(large_batch_in_flight, system.store, started, paused)
                await eventually(in_flight, timeout=60, every=0.005)
                kill(processes[-1])
                # The killed relay never came back to remove it.
                assert paused.exists(), "the kill came after the relay's pause ended"
                paused.unlink()
            processes.append(orchestrator_process(kafka, url, prefix))
            arns = list(await starting)
            await eventually(lambda: all_succeeded(system.store))
            await eventually(lambda: outbox_empty(system.store))
        finally:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
                    process.wait()
        await assert_nothing_lost_or_done_twice(system, arns)
        # Every task's work was done once per execution, though every kill had commands
        # sent again (the idempotency key is the execution's ARN, its scope and state).
        per_execution = Counter(key.partition("#")[0] for key in ledger.effects)
        assert per_execution == dict.fromkeys(arns, TASKS)
        assert sum(ledger.calls.values()) > len(ledger.effects)


async def outbox_empty(store: ExecutionStore) -> bool:
    return not await store.pending_outbox(1)


async def assert_nothing_lost_or_done_twice(system: System, arns: list[str]) -> None:
    """Started once, each task scheduled and answered once, succeeded once, no gap."""
    records = await system.store.list_executions("Calc", limit=EVERYTHING)
    assert sorted(r.execution_arn for r in records) == sorted(arns)
    for record in records:
        assert record.status == ExecutionStatus.SUCCEEDED, record
        assert record.output is not None
        n = json.loads(record.input)["n"]
        assert json.loads(record.output) == {"n": n, "doubled": 2 * n, "added": {"sum": 3 * n}}
        events = await system.store.read(record.execution_arn)
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        types = Counter(e.type for e in events)
        assert types["ExecutionStarted"] == types["ExecutionSucceeded"] == 1, types
        assert types["LambdaFunctionScheduled"] + types["TaskScheduled"] == TASKS, types
        assert types["LambdaFunctionSucceeded"] + types["TaskSucceeded"] == TASKS, types
