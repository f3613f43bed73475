"""One execution the engine cannot handle fails alone; the orchestrator goes on.

Against the real embedded broker and orchestrator: an execution whose stored history no
longer replays (a fault of the engine, or of the data) fails with States.Runtime naming
the fault, and the messages after it, for other executions, are handled as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime

from stepstream.asl.history import HistoryEvent, TaskScheduledDetails
from stepstream.messaging.kafka import KafkaSettings
from stepstream.store.records import NewEvent
from tests.integration.harness import eventually, running_system

HOLD = {
    "StartAt": "Hold",
    "States": {"Hold": {"Type": "Wait", "Seconds": 3600, "End": True}},
}


async def test_an_execution_whose_history_does_not_replay_fails_and_the_rest_go_on(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    async with running_system(kafka, store_url, prefix) as system:
        await system.register("hold", HOLD, {})
        broken = await system.start("hold", "broken", {"n": 1})
        healthy = await system.start("hold", "healthy", {"n": 2})

        async def waiting(arn: str) -> bool:
            return any(e["type"] == "WaitStateEntered" for e in await system.history(arn))

        await eventually(lambda: waiting(broken))
        await eventually(lambda: waiting(healthy))

        # A task event for a branch that never existed: replaying it cannot work.
        version = len(await system.store.read(broken))
        stray = HistoryEvent(
            id=version + 1,
            previous_event_id=version,
            timestamp=datetime.now(UTC),
            type="TaskScheduled",
            details=TaskScheduledDetails(resourceType="lambda", resource="invoke"),
            scope="/7",
        )
        await system.store.append(broken, version, [NewEvent(stray.type, stray.to_record())])

        await system.client.stop_execution(broken)
        await system.client.stop_execution(healthy)

        failed = await system.finished(broken)
        assert failed["status"] == "FAILED"
        assert failed["error"] == "States.Runtime"
        assert "internal error" in failed["cause"] and "KeyError" in failed["cause"]
        assert (await system.finished(healthy))["status"] == "ABORTED"
        events = await system.store.read(broken)
        assert [e.version for e in events] == list(range(1, len(events) + 1))
        assert events[-1].type == "ExecutionFailed"
