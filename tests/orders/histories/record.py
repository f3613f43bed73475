"""Re-record the fulfilment histories the projection tests read.

python -m tests.orders.histories.record

Each scenario runs definitions/fulfilment.asl.json on the local runner, with the fake
services of tests/fulfilment, and writes the history as the orchestrator publishes it
(``HistoryEvent.to_record()``). The files are test data: a change of the history format
shows up as a diff here, and the projection must still read the old files.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from stepstream.asl.local import LocalRunner
from stepstream.asl.machine import load_machine
from tests.fulfilment.test_definition import (
    DEFINITIONS,
    ORDER,
    CardDeclined,
    CarrierRateLimited,
    CarrierResponseMalformed,
    FakeServices,
    OutOfStock,
    ShipmentRejected,
)

HERE = Path(__file__).parent
REPO = HERE.parents[2]
WEEK_SHORT = timedelta(hours=1).total_seconds()


def _review_token(runner: LocalRunner) -> str:
    for event in reversed(runner.history):
        token = getattr(event.details, "taskToken", None)
        if event.type == "TaskScheduled" and token:
            return str(token)
    raise AssertionError("no task waits for review")


def _answer_review(runner: LocalRunner) -> None:
    decision = {"decision": "retry", "note": "carrier fixed its API", "operator": "ada"}
    runner.send_task_success(_review_token(runner), decision)
    runner.advance(WEEK_SHORT)


SCENARIOS: dict[str, tuple[dict[str, list[type[Exception]]], Callable[[LocalRunner], None]]] = {
    "happy": ({}, lambda runner: None),
    "carrier-retried": (
        {"book-shipment": [CarrierRateLimited, CarrierRateLimited]},
        lambda r: None,
    ),
    "shipment-rejected": ({"book-shipment": [ShipmentRejected]}, lambda runner: None),
    "card-declined": ({"charge-payment": [CardDeclined]}, lambda runner: None),
    "out-of-stock": ({"reserve-stock": [OutOfStock]}, lambda runner: None),
    "review-waiting": ({"book-shipment": [CarrierResponseMalformed]}, lambda runner: None),
    "review-retried": ({"book-shipment": [CarrierResponseMalformed]}, _answer_review),
}


def record(name: str) -> dict[str, Any]:
    failures, then = SCENARIOS[name]
    order_id = f"ord-{name}"
    machine = load_machine((DEFINITIONS / "fulfilment.asl.json").read_text())
    services = FakeServices(**failures)
    runner = LocalRunner(machine, functions=services.functions(), seed=7, execution_name=order_id)
    runner.start({**ORDER, "orderId": order_id})
    runner.advance(WEEK_SHORT)
    then(runner)
    return {
        "executionArn": runner.execution.state.execution_arn,
        "stateMachine": "Fulfilment",
        "events": [event.to_record() for event in runner.history],
    }


def main() -> None:
    for name in SCENARIOS:
        path = HERE / f"{name}.json"
        text = json.dumps(record(name), indent=1) + "\n"
        # Causes carry stack traces; keep this machine's folders out of the test data.
        text = text.replace(str(REPO), "<repo>")
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
