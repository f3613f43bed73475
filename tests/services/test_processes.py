"""Each service as its own process (``python -m services.<name>``), as ``stepstream up`` runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import pytest

from simulators.carrier import CarrierSimulator
from simulators.stripe_api import StripeStandIn
from stepstream.broker import EmbeddedBroker, TopicSpec, ensure_topics
from stepstream.messaging.kafka import KafkaBus
from stepstream.messaging.topics import Topics
from tests.services.conftest import kafka_settings
from tests.services.system import SERVICES, Commands, order

MODULES = {
    "charge-payment": "services.charge_payment",
    "reserve-stock": "services.reserve_stock",
    "book-shipment": "services.book_shipment",
    "emit-receipt": "services.emit_receipt",
}
CARRIER_KEY = "carrier-key-for-process-tests"


def _environment(extra: Mapping[str, str]) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STEPSTREAM_") and key != "STRIPE_API_KEY"
    }
    return {**inherited, "STEPSTREAM_LOG_LEVEL": "WARNING", **extra}


async def _run(module: str, env: Mapping[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", module, env=dict(env), stdout=output, stderr=output
        )


@contextlib.asynccontextmanager
async def processes(
    env: Mapping[str, str], folder: Path
) -> AsyncIterator[dict[str, asyncio.subprocess.Process]]:
    started: dict[str, asyncio.subprocess.Process] = {}
    try:
        for service, module in MODULES.items():
            started[service] = await _run(module, env, folder / f"{service}.log")
        yield started
    finally:
        for process in started.values():
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_each_service_process_answers_its_command_and_stops_cleanly_on_sigterm(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    kafka = kafka_settings(broker)
    topics = Topics(f"proc{uuid.uuid4().hex[:10]}")
    names = [topics.commands(s) for s in SERVICES]
    names += [topics.replies(), topics.dead_letter(), topics.receipts()]
    await ensure_topics(kafka.bootstrap_servers, [TopicSpec(name) for name in names])
    async with StripeStandIn() as standin, CarrierSimulator(api_key=CARRIER_KEY) as carrier:
        env = _environment(
            {
                "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
                "STEPSTREAM_KAFKA_SESSION_TIMEOUT_MS": "2000",
                "STEPSTREAM_KAFKA_HEARTBEAT_INTERVAL_MS": "300",
                "STEPSTREAM_TOPIC_PREFIX": topics.prefix,
                "STEPSTREAM_DATA_DIR": str(tmp_path / "data"),
                "STEPSTREAM_STRIPE_API_BASE": standin.url,
                "STEPSTREAM_CARRIER_URL": carrier.url,
                "STEPSTREAM_CARRIER_API_KEY": CARRIER_KEY,
                "STEPSTREAM_INITIAL_STOCK": '{"MUG": 4}',
            }
        )
        commands = Commands(KafkaBus(settings=kafka), topics)
        await commands.start()
        try:
            async with processes(env, tmp_path) as running:
                document = order("p-1")
                sent = {
                    service: await commands.send(service, service, document)
                    for service in ("charge-payment", "reserve-stock", "book-shipment")
                }
                answers = {s: await commands.answer(command) for s, command in sent.items()}
                for service, answer in answers.items():
                    assert answer.kind == "task.succeeded", (service, answer.payload)
                document["payment"] = answers["charge-payment"].payload["output"]
                document["shipment"] = answers["book-shipment"].payload["output"]
                receipt = await commands.call("emit-receipt", "emit-receipt", document)
                assert receipt.payload["output"]["total"] == 1800

                for process in running.values():
                    process.send_signal(signal.SIGTERM)
                codes = [await asyncio.wait_for(p.wait(), 20) for p in running.values()]
        finally:
            await commands.stop()
    assert codes == [0, 0, 0, 0], [(tmp_path / f"{s}.log").read_text() for s in MODULES]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [
        "book-shipment.db",
        "charge-payment.db",
        "emit-receipt.db",
        "reserve-stock.db",
    ]


@pytest.mark.parametrize(
    ("module", "env", "message"),
    [
        (
            "services.reserve_stock",
            {"STEPSTREAM_INITIAL_STOCK": '{"MUG": -1}'},
            "reserve-stock: bad setting: field 'initial_stock.MUG' invalid",
        ),
        ("services.charge_payment", {}, "charge-payment: STRIPE_API_KEY is required"),
        (
            "services.book_shipment",
            {"STEPSTREAM_CARRIER_TIMEOUT_SECONDS": "soon"},
            "book-shipment: bad setting: field 'carrier_timeout_seconds' invalid",
        ),
        (
            "services.emit_receipt",
            {"STEPSTREAM_EVENT_LOOP": "trio"},
            "emit-receipt: bad setting: STEPSTREAM_EVENT_LOOP='trio' is not one of uvloop, asyncio",
        ),
    ],
)
async def test_a_process_with_a_bad_setting_exits_2_saying_which(
    tmp_path: Path, module: str, env: dict[str, str], message: str
) -> None:
    process = await _run(module, _environment(env), tmp_path / "out.log")

    assert await asyncio.wait_for(process.wait(), 30) == 2
    assert message in (tmp_path / "out.log").read_text()
