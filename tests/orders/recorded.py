"""The recorded fulfilment histories in tests/orders/histories, and ways to cut them up."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HISTORIES = Path(__file__).parent / "histories"
SCENARIOS = (
    "happy",
    "carrier-retried",
    "shipment-rejected",
    "card-declined",
    "out-of-stock",
    "review-waiting",
    "review-retried",
)


@dataclass(frozen=True)
class Recorded:
    execution_arn: str
    state_machine: str
    events: list[dict[str, Any]]

    def batches(self, size: int) -> list[list[dict[str, Any]]]:
        """The events as the orchestrator could publish them, ``size`` per batch."""
        return [self.events[i : i + size] for i in range(0, len(self.events), size)]

    def payload(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """A history message's payload for ``events``."""
        return {"state_machine": self.state_machine, "events": events}


def recorded(name: str) -> Recorded:
    document = json.loads((HISTORIES / f"{name}.json").read_text(encoding="utf-8"))
    return Recorded(document["executionArn"], document["stateMachine"], document["events"])
