"""A carrier's Retry-After, through the real broker, orchestrator and book-shipment service.

The carrier answers the first booking 429 with Retry-After: 3 while the definition's
back-off would draw 1 s. The carrier's own request log shows that it was not called
again sooner than it asked, and the history says why the retry waited that long.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr

from services.book_shipment import service as book_shipment
from services.book_shipment.settings import BookShipmentSettings
from simulators.carrier import CarrierSimulator
from simulators.carrier.admin import requests, set_faults
from stepstream.messaging.kafka import KafkaSettings
from tests.integration.harness import running_system
from tests.services.system import order

CARRIER_KEY = "carrier-key-for-retry-after"
RETRY_AFTER = 3
DEFINITION = {
    "StartAt": "BookShipment",
    "States": {
        "BookShipment": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "book-shipment", "Payload.$": "$"},
            "ResultSelector": {"trackingNumber.$": "$.Payload.trackingNumber"},
            "ResultPath": "$.shipment",
            "Retry": [
                {
                    "ErrorEquals": ["CarrierRateLimited"],
                    "IntervalSeconds": 1,
                    "BackoffRate": 1.0,
                    "MaxAttempts": 2,
                    "MaxDelaySeconds": 10,
                }
            ],
            "End": True,
        }
    },
}
BINDINGS = {"functions": {"book-shipment": "book-shipment"}}


async def test_the_carrier_is_not_called_again_before_its_retry_after(
    kafka: KafkaSettings, store_url: str, prefix: str, tmp_path: Path
) -> None:
    async with (
        CarrierSimulator(api_key=CARRIER_KEY, seed=3) as carrier,
        running_system(kafka, store_url, prefix) as system,
    ):
        settings = BookShipmentSettings(
            kafka=kafka,
            topic_prefix=prefix,
            data_dir=tmp_path,
            carrier_url=carrier.url,
            carrier_api_key=SecretStr(CARRIER_KEY),
        )
        await set_faults(carrier.url, next_429=1, retry_after_seconds=RETRY_AFTER)
        await system.register("Ship", DEFINITION, BINDINGS)
        stop = asyncio.Event()
        service = asyncio.create_task(book_shipment.serve(settings, stop))
        try:
            arn = await system.start("Ship", "o-later", order("o-later"))
            described = await system.finished(arn)
        finally:
            stop.set()
            await service
        history = await system.history(arn)
        logged = [r for r in await requests(carrier.url) if r.path == "/v1/shipments"]

    assert described["status"] == "SUCCEEDED", described
    assert [(r.idempotency_key, r.status, r.retry_after) for r in logged] == [
        ("o-later", 429, str(RETRY_AFTER)),
        ("o-later", 201, None),
    ]
    # The carrier's own clock: the second call came no sooner than it asked.
    first, second = logged
    assert (second.arrived_at - first.arrived_at).total_seconds() >= RETRY_AFTER

    [failed] = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"]
    assert failed["error"] == "CarrierRateLimited"
    assert {key: failed[key] for key in failed if key.startswith(("retry", "drawn"))} == {
        "retryAfterSeconds": RETRY_AFTER,
        "drawnDelaySeconds": 1,
        "retryDelaySeconds": RETRY_AFTER,
        "retryDelayReason": "retry-after",
    }
