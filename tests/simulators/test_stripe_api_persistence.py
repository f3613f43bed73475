"""State across restarts (SQLite file), reset, and the runnable entry point."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import stripe

from simulators.stripe_api import StandInAdmin, StripeStandIn

from .stripe_fixtures import card_payment, sdk_client

START_DEADLINE_SECONDS = 20.0


async def test_a_restarted_stand_in_keeps_its_objects_ledger_and_keys(tmp_path: Path) -> None:
    state = tmp_path / "stripe.sqlite3"
    options: stripe.RequestOptions = {"idempotency_key": "exec-9:ChargePayment"}
    async with StripeStandIn(state_path=state) as first:
        client = sdk_client(first.url)
        paid = await client.v1.payment_intents.create_async(card_payment(), options)
        await client.v1.refunds.create_async({"payment_intent": paid.id, "amount": 500})
        before = first.ledger()

    async with StripeStandIn(state_path=state) as second:
        client = sdk_client(second.url)
        replayed = await client.v1.payment_intents.create_async(card_payment(), options)
        found = await client.v1.payment_intents.retrieve_async(paid.id)
        refund = await client.v1.refunds.create_async({"payment_intent": paid.id})
        after = second.ledger()

    assert replayed.id == paid.id
    assert found.status == "succeeded"
    # What was left to refund survived the restart, and the replay created nothing new.
    assert refund.amount == 1500
    assert before.entry(paid.id).captured == after.entry(paid.id).captured == 2000
    assert (before.entry(paid.id).refunded, after.entry(paid.id).refunded) == (500, 2000)
    assert len(after.payment_intents) == 1


async def test_reset_forgets_objects_and_keys_in_memory_and_on_disk(tmp_path: Path) -> None:
    state = tmp_path / "stripe.sqlite3"
    options: stripe.RequestOptions = {"idempotency_key": "exec-10:ChargePayment"}
    async with StripeStandIn(state_path=state) as running:
        client = sdk_client(running.url)
        first = await client.v1.payment_intents.create_async(card_payment(), options)
        await StandInAdmin(running.url).reset()
        assert running.ledger().payment_intents == []
        with pytest.raises(stripe.InvalidRequestError):
            await client.v1.payment_intents.retrieve_async(first.id)
        second = await client.v1.payment_intents.create_async(card_payment(), options)

    async with StripeStandIn(state_path=state) as restarted:
        assert [e.id for e in restarted.ledger().payment_intents] == [second.id]


@asynccontextmanager
async def _running_module(*args: str) -> AsyncIterator[str]:
    """Run ``python -m simulators.stripe_api`` and yield its URL; stop it after."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.stripe_api",
        "--port",
        "0",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), START_DEADLINE_SECONDS)
        text = line.decode().strip()
        assert text.startswith("stripe stand-in listening on http://127.0.0.1:"), text
        yield text.rsplit(" ", 1)[-1]
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), START_DEADLINE_SECONDS)
    assert code == 0


async def test_the_module_serves_the_sdk_and_keeps_its_state_file(tmp_path: Path) -> None:
    state = tmp_path / "cli.sqlite3"
    async with _running_module("--state", str(state)) as url:
        paid = await sdk_client(url).v1.payment_intents.create_async(card_payment())

    async with _running_module("--state", str(state)) as url:
        ledger = await StandInAdmin(url).ledger()

    assert ledger.entry(paid.id).captured == 2000


async def test_the_module_refuses_a_live_key_naming_the_option() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.stripe_api",
        "--api-key",
        "sk_live_abcdefgh",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), START_DEADLINE_SECONDS)

    assert process.returncode == 2
    assert b"not a test-mode key" in stderr
