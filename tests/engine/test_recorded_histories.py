"""Recorded histories (tests/engine/histories/*.json, made by its record.py) are test
data: each must still load and replay to the outcome it was recorded with, so a change to
the engine that would strand histories already stored in an event store shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.machine import load_machine

HISTORIES = Path(__file__).parent / "histories"


def recorded() -> list[Path]:
    return sorted(HISTORIES.glob("*.json"))


@pytest.mark.parametrize("path", recorded(), ids=lambda p: p.stem)
def test_recorded_histories_replay_to_their_recorded_outcome(path: Path) -> None:
    record = json.loads(path.read_text())
    events = [HistoryEvent.from_record(r) for r in record["events"]]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    execution = Execution.from_history(
        load_machine(record["definition"]), events, execution_arn=record["executionArn"]
    )
    expected = record["outcome"]
    assert execution.status == expected["status"]
    assert execution.output == expected.get("output")
    assert execution.error == expected.get("error")
    assert len(execution.pending_tasks()) == expected.get("pendingTasks", 0)
    assert [e.to_record() for e in events] == record["events"]


def test_there_are_recorded_histories() -> None:
    assert len(recorded()) >= 5
