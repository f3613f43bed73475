"""No single message blocks the others: sizes are bounded, what cannot be sent is set aside.

Against the real embedded broker: a legal but large execution, an oversized start, and an
outbox row no record can carry must each leave every other execution running.
"""

from __future__ import annotations

from typing import Any

import pytest

from stepstream import arns
from stepstream.api.errors import ApiError
from stepstream.messaging.contracts import HISTORY_KIND
from stepstream.messaging.dead_letter import PREVIEW_BYTES, DeadLetter
from stepstream.messaging.envelope import Envelope, decode
from stepstream.messaging.kafka import KafkaBus, KafkaPublisher, KafkaSettings
from stepstream.messaging.requests import StartExecution
from tests.integration.harness import System, eventually, running_system
from tests.messaging.support import collecting, unique

SIX_PASSES = {
    "StartAt": "P1",
    "States": {
        **{f"P{i}": {"Type": "Pass", "Next": f"P{i + 1}"} for i in range(1, 6)},
        "P6": {"Type": "Pass", "End": True},
    },
}


async def six_passes(system: System) -> None:
    await system.register("six", SIX_PASSES, {})


async def test_a_large_execution_does_not_stall_the_ones_after_it(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await six_passes(system)
        bus = KafkaBus(settings=kafka)
        history = bus.subscriber([system.topics.history()], group_id=unique("history"))
        await history.start()
        try:
            async with collecting(history) as seen:
                # 100 KB is legal, but one decision's events hold it a dozen times over.
                large = await system.start("six", "large", {"pad": "x" * 100_000})
                small = await system.start("six", "small", {"n": 1})

                assert (await system.finished(small))["status"] == "SUCCEEDED"
                assert (await system.finished(large))["status"] == "SUCCEEDED"

                def succeeded(arn: str) -> bool:
                    return any(
                        event["type"] == "ExecutionSucceeded"
                        for envelope in published(seen.records)
                        if envelope.execution_id == arn
                        for event in envelope.payload["events"]
                    )

                await eventually(_sync(lambda: succeeded(large) and succeeded(small)))
        finally:
            await history.stop()
        batches = [e for e in published(seen.records) if e.execution_id == large]
        assert all(len(e.to_bytes()) <= 1024 * 1024 for e in batches)
        ids = [event["id"] for e in batches for event in e.payload["events"]]
        assert ids == list(range(1, len(ids) + 1))  # every event, once, in order


async def test_the_client_refuses_an_input_over_256_kib(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await six_passes(system)
        with pytest.raises(ApiError) as refused:
            await system.start("six", "too-large", {"pad": "x" * 262_144})

        assert refused.value.code == "InvalidExecutionInput"
        message = str(refused.value)
        assert "262154 bytes" in message and "262144" in message  # {"pad":"x…"}, compact
        assert await system.store.get_execution(arns.execution_arn("six", "too-large")) is None


async def test_an_oversized_start_request_on_the_bus_is_dead_lettered(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await six_passes(system)
        bus = KafkaBus(settings=kafka)
        dead = bus.subscriber([system.topics.dead_letter()], group_id=unique("dead"))
        await dead.start()
        try:
            async with collecting(dead) as letters:
                arn = arns.execution_arn("six", "sneaked")
                request = StartExecution(state_machine="six", name="sneaked", input="x" * 300_000)
                envelope = Envelope(
                    kind=request.KIND, execution_id=arn, payload=request.model_dump()
                )
                await system.client.publisher.publish(system.topics.requests(), arn, envelope)
                after = await system.start("six", "after", {"n": 2})

                assert (await system.finished(after))["status"] == "SUCCEEDED"
                [record] = await letters.wait_for(1)
        finally:
            await dead.stop()
        letter = DeadLetter.from_record(record)
        assert "InvalidExecutionInput" in letter.reason
        assert "300002 bytes" in letter.reason and "262144" in letter.reason
        assert await system.store.get_execution(arn) is None


async def test_an_oversized_record_on_the_requests_topic_is_set_aside_bounded(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await six_passes(system)
        dead = KafkaBus(settings=kafka).subscriber(
            [system.topics.dead_letter()], group_id=unique("dead")
        )
        await dead.start()
        try:
            async with collecting(dead) as letters:
                large = kafka.model_copy(update={"max_record_bytes": 4 * 1024 * 1024})
                async with KafkaPublisher(settings=large) as producer:
                    oversized = b"{" + b" " * 1_200_000 + b"}"
                    await producer.publish_raw(system.topics.requests(), b"k", oversized, [])
                after = await system.start("six", "after", {"n": 3})

                assert (await system.finished(after))["status"] == "SUCCEEDED"
                [record] = await letters.wait_for(1)
        finally:
            await dead.stop()
        letter = DeadLetter.from_record(record)
        assert letter.truncated and letter.original_size == len(oversized)
        assert len(letter.value) == PREVIEW_BYTES
        assert letter.consumer_group == f"{prefix}.orchestrator"


def published(records: list[Any]) -> list[Envelope]:
    return [e for e in (decode(r.value) for r in records) if e.kind == HISTORY_KIND]


def _sync(check: Any) -> Any:
    async def probe() -> bool:
        return bool(check())

    return probe
