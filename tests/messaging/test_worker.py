"""The worker kit's behaviour, over the in-memory bus."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from stepstream.messaging.bus import ManagedPublisher, ManagedSubscriber
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.fake import FakeBus, FakePublisher
from stepstream.messaging.topics import Topics
from stepstream.worker import CommandContext, Worker, WorkerSettings
from tests.messaging.support import eventually
from tests.messaging.worker_harness import Harness, serving

SERVICE = "reserve-stock"


@pytest.fixture
def bus() -> FakeBus:
    return FakeBus(partitions=1)


@pytest.fixture
async def harness(bus: FakeBus) -> AsyncIterator[Harness]:
    async with Harness(bus=bus, topics=Topics(), service=SERVICE).running() as h:
        yield h


def make_worker(bus: Any, **settings: Any) -> Worker:
    return Worker(name=SERVICE, settings=WorkerSettings(**settings), bus=bus)


def test_the_worker_consumes_its_command_topic_in_its_own_group(bus: FakeBus) -> None:
    worker = make_worker(bus, topic_prefix="acme")

    assert worker.command_topic == "acme.commands.reserve-stock"
    assert worker.group_id == "acme.reserve-stock"


def test_a_command_name_has_one_handler(bus: FakeBus) -> None:
    worker = make_worker(bus)

    @worker.handler("reserve")
    async def first(cmd: CommandContext) -> None: ...

    with pytest.raises(ValueError, match="already has a handler for 'reserve'"):
        worker.handler("reserve")


async def test_a_worker_without_handlers_refuses_to_start(bus: FakeBus) -> None:
    with pytest.raises(RuntimeError, match="no handlers"):
        await make_worker(bus).start()


async def test_the_handler_sees_the_command(bus: FakeBus, harness: Harness) -> None:
    worker = make_worker(bus)
    seen: list[tuple[Any, ...]] = []

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        seen.append((cmd.input, cmd.name, cmd.resource, cmd.execution_id, cmd.attempt))
        seen.append((cmd.command_id, cmd.idempotency_key, cmd.task_token))

    async with serving(worker):
        command = await harness.send({"sku": "A"}, execution_id="exec-9", task_token="tok")
        await harness.reply(command)

    assert seen == [
        ({"sku": "A"}, SERVICE, "arn:aws:states:::lambda:invoke", "exec-9", 1),
        (command.command_id, command.idempotency_key, "tok"),
    ]


async def test_a_command_nobody_handles_gets_a_failure_naming_it(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None: ...

    async with serving(worker):
        reply = await harness.reply(await harness.send(command="release-stock"))

    assert reply.payload["error"] == "UnknownCommand"
    assert "'release-stock'" in reply.payload["cause"]
    assert reply.payload["retriable"] is False


async def test_an_exception_without_a_retriable_flag_says_none(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        raise KeyError("sku")

    async with serving(worker):
        reply = await harness.reply(await harness.send())

    assert reply.payload == {"error": "KeyError", "cause": "'sku'", "retriable": None}


class Throttled(Exception):
    retriable = True

    def __init__(self, retry_after_seconds: Any) -> None:
        super().__init__("the far end answered 429")
        self.retry_after_seconds = retry_after_seconds


@pytest.mark.parametrize(
    ("raised", "traceback"), [(Throttled(None), False), (KeyError("sku"), True)]
)
async def test_a_named_task_error_is_logged_in_one_line_a_fault_with_its_traceback(
    bus: FakeBus,
    harness: Harness,
    caplog: pytest.LogCaptureFixture,
    raised: Exception,
    traceback: bool,
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        raise raised

    with caplog.at_level(logging.WARNING, logger="stepstream.worker.execution"):
        async with serving(worker):
            await harness.reply(await harness.send())

    [record] = [r for r in caplog.records if r.name == "stepstream.worker.execution"]
    assert f"failed: {type(raised).__name__}: " in record.getMessage()
    assert bool(record.exc_info) == traceback


@pytest.mark.parametrize(("raised", "sent"), [(30, 30.0), (1.5, 1.5), (-3, None), ("soon", None)])
async def test_a_retry_after_on_the_exception_rides_in_the_failure_reply(
    bus: FakeBus, harness: Harness, raised: Any, sent: float | None
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        raise Throttled(raised)

    async with serving(worker):
        reply = await harness.reply(await harness.send())

    assert reply.payload["error"] == "Throttled"
    assert reply.payload.get("retry_after_seconds") == sent


async def test_a_handler_past_its_timeout_is_stopped_and_left_to_the_orchestrator(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)
    cancelled = asyncio.Event()

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with serving(worker):
        command = await harness.send(timeout_seconds=1)
        await eventually(lambda: cancelled.is_set())
        # Done with it (committed), but no answer: the orchestrator's timer records the time-out.
        await eventually(lambda: bus.committed(worker.group_id, worker.command_topic, 0) == 1)
        assert harness.replies_to(command) == []


async def test_a_timeout_raised_by_the_handler_itself_keeps_its_name(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None:
        raise TimeoutError("the warehouse did not answer")

    async with serving(worker):
        reply = await harness.reply(await harness.send(timeout_seconds=30))

    assert reply.payload["error"] == "TimeoutError"
    assert reply.payload["cause"] == "the warehouse did not answer"


async def test_a_handler_can_heartbeat_by_itself(bus: FakeBus, harness: Harness) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> str:
        await cmd.heartbeat()
        return "done"

    async with serving(worker):
        command = await harness.send()
        await harness.reply(command, "task.succeeded")

    assert [r.kind for r in harness.replies_to(command)] == ["task.heartbeat", "task.succeeded"]


async def test_an_output_over_the_size_limit_becomes_a_data_limit_failure(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus, max_message_bytes=2048)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> str:
        return "x" * 5000

    async with serving(worker):
        reply = await harness.reply(await harness.send())

    assert reply.payload["error"] == "States.DataLimitExceeded"
    assert "exceeds the limit of 2048 bytes" in reply.payload["cause"]


async def test_an_output_that_is_not_json_becomes_a_runtime_failure(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> object:
        return object()

    async with serving(worker):
        reply = await harness.reply(await harness.send())

    assert reply.payload["error"] == "States.Runtime"
    assert "not JSON" in reply.payload["cause"]


@pytest.mark.parametrize(
    ("envelope", "reason"),
    [
        (
            Envelope(kind="task.succeeded", execution_id="e", command_id="c"),
            "is not 'task.command'",
        ),
        (Envelope(kind="task.command", execution_id="e", payload={}), "'command_id' missing"),
        (
            Envelope(kind="task.command", execution_id="e", command_id="c", payload={"x": 1}),
            "field 'payload.resource' missing",
        ),
    ],
)
async def test_a_valid_envelope_without_a_valid_command_is_dead_lettered(
    bus: FakeBus, harness: Harness, envelope: Envelope, reason: str
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> None: ...

    async with serving(worker):
        await harness.send_raw(envelope.to_bytes())
        [letter] = await harness.dead_letters(1)
        await eventually(lambda: bus.committed(worker.group_id, worker.command_topic, 0) == 1)

    assert reason in letter.reason
    assert letter.consumer_group == worker.group_id


async def test_commands_run_concurrently_up_to_the_limit(bus: FakeBus, harness: Harness) -> None:
    worker = make_worker(bus, concurrency=3)
    gate = asyncio.Event()
    running = 0
    most = 0

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await gate.wait()
        running -= 1
        return int(cmd.input)

    async with serving(worker):
        commands = [await harness.send(n) for n in range(5)]
        await eventually(lambda: worker.in_flight == 3)
        await asyncio.sleep(0.05)  # room for a wrongly started fourth; none may come
        assert (running, most) == (3, 3)
        gate.set()
        replies = [await harness.reply(command) for command in commands]

    assert [r.payload["output"] for r in replies] == [0, 1, 2, 3, 4]
    assert most == 3


async def test_the_commit_never_passes_an_unfinished_command(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus, concurrency=3)
    gates = {n: asyncio.Event() for n in range(3)}

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> int:
        await gates[cmd.input].wait()
        return int(cmd.input)

    def committed() -> int | None:
        return bus.committed(worker.group_id, worker.command_topic, 0)

    async with serving(worker):
        commands = [await harness.send(n) for n in range(3)]
        await eventually(lambda: worker.in_flight == 3)
        gates[2].set()
        gates[1].set()
        await harness.reply(commands[2])
        await harness.reply(commands[1])
        assert committed() is None  # command 0 still runs: nothing may be committed

        gates[0].set()
        await harness.reply(commands[0])
        await eventually(lambda: committed() == 3)


class BrokenPublisher(FakePublisher):
    """Publishes nothing to the replies topic: the broker refuses it."""

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        if topic.endswith(".replies"):
            raise ConnectionError("broker unreachable")
        await super().publish_raw(topic, key, value, headers)


class BusWithBrokenReplies:
    def __init__(self, bus: FakeBus) -> None:
        self._bus = bus

    def publisher(self) -> ManagedPublisher:
        return BrokenPublisher(self._bus)

    def subscriber(self, topics: Sequence[str], *, group_id: str) -> ManagedSubscriber:
        return self._bus.subscriber(topics, group_id=group_id)


async def test_a_reply_that_cannot_be_sent_stops_the_worker_uncommitted(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(BusWithBrokenReplies(bus))

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> str:
        return "done"

    await worker.start()
    try:
        await harness.send()
        with pytest.raises(ConnectionError, match="broker unreachable"):
            await asyncio.wait_for(worker.wait(), timeout=10)
    finally:
        await worker.stop()

    assert bus.committed(worker.group_id, worker.command_topic, 0) is None


async def test_run_serves_until_cancelled_then_stops_cleanly(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> str:
        return "done"

    running = asyncio.create_task(worker.run())
    await harness.reply(await harness.send())
    running.cancel()

    with pytest.raises(asyncio.CancelledError):
        await running
    assert worker.in_flight == 0
    await worker.start()  # a stopped worker can start again
    await worker.stop()


async def test_stop_lets_running_commands_finish_within_the_grace(
    bus: FakeBus, harness: Harness
) -> None:
    worker = make_worker(bus)
    entered = asyncio.Event()
    release = asyncio.Event()

    @worker.handler(SERVICE)
    async def reserve(cmd: CommandContext) -> str:
        entered.set()
        await release.wait()
        return "done"

    await worker.start()
    command = await harness.send()
    await asyncio.wait_for(entered.wait(), timeout=10)
    stopping = asyncio.create_task(worker.stop(grace_seconds=10))
    await asyncio.sleep(0)
    release.set()
    await stopping

    assert (await harness.reply(command)).payload == {"output": "done"}
    assert bus.committed(worker.group_id, worker.command_topic, 0) == 1
