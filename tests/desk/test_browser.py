"""The web desk in a real browser (Debian's chromium, driven by Playwright) against the
whole embedded stack: sign in, find a ticket, see the failed state in the graph, retry
with a corrected address and watch the order succeed; a viewer cannot decide; a request
without the CSRF token is refused; one decision over several tickets.

Set STEPSTREAM_DESK_SCREENSHOTS to a folder to keep screenshots of the queue and a ticket
(the README's come from here).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from apps.cli.main import main
from apps.cli.stack_commands import stack_options
from apps.demo.orders import order_document
from apps.stack.processes import simulator_urls
from apps.stack.up import Stack
from simulators.carrier import admin as carrier
from stepstream.api.client import StepStreamClient
from stepstream.api.connect import connect
from tests.integration.harness import eventually

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip(
        "no chromium here: `apt-get install chromium chromium-driver` (.ci/run does)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip("playwright.async_api")

PASSWORD = "a long enough password"
SCREENSHOTS = os.environ.get("STEPSTREAM_DESK_SCREENSHOTS")


def add_user(folder: Path, name: str, role: str) -> None:
    stdin = sys.stdin
    sys.stdin = io.StringIO(PASSWORD + "\n")
    try:
        code = main(["desk", "add-user", name, "--role", role, "--password-stdin",
                     "--data-dir", str(folder)])  # fmt: skip
    finally:
        sys.stdin = stdin
    assert code == 0


async def to_review(client: StepStreamClient, carrier_url: str, count: int) -> list[str]:
    """Place ``count`` orders while the carrier garbles its answers; their execution ARNs
    once each waits for review. The carrier is healed afterwards."""
    await carrier.set_faults(carrier_url, rate_malformed=1.0, seed=7)
    try:
        arns = []
        for _ in range(count):
            order = order_document("MUG", 1)
            started = await client.start_execution(
                "Fulfilment", json.dumps(order), order["orderId"]
            )
            arns.append(str(started["executionArn"]))
        for arn in arns:
            await eventually(lambda arn=arn: waiting_for_review(client, arn), timeout=90)
        return arns
    finally:
        await carrier.clear_faults(carrier_url)


async def waiting_for_review(client: StepStreamClient, arn: str) -> bool | None:
    events = (await client.get_execution_history(arn))["events"]
    entered = [e for e in events if e["type"].endswith("StateEntered") and "scope" not in e]
    last = entered[-1]["stateEnteredEventDetails"]["name"] if entered else None
    return True if last == "WaitForHumanReview" else None


async def ended(client: StepStreamClient, arn: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        described = await client.describe_execution(arn)
        return described if described["status"] != "RUNNING" else None

    found: dict[str, Any] = await eventually(probe, timeout=90)
    return found


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[tuple[Path, str]]:
    folder = tmp_path / "stack"
    async with Stack(stack_options(folder, log_to_files=True)):
        status = await asyncio.to_thread(_status, folder)
        yield folder, status["urls"]["desk"]


def _status(folder: Path) -> dict[str, Any]:
    out = io.StringIO()
    stdout = sys.stdout
    sys.stdout = out
    try:
        assert main(["status", "--json", "--data-dir", str(folder)]) == 0
    finally:
        sys.stdout = stdout
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


async def sign_in(page: Any, desk: str, name: str) -> None:
    await page.goto(desk + "/")
    assert "/signin" in page.url
    await page.fill('input[name="name"]', name)
    await page.fill('input[name="password"]', PASSWORD)
    await page.click('button:has-text("Sign in")')
    await page.wait_for_load_state()
    assert page.url == desk + "/", await page.content()


async def test_an_operator_works_the_queue_in_a_browser(stack: tuple[Path, str]) -> None:
    folder, desk = stack
    for name, role in (("otto", "operator"), ("vera", "viewer")):
        await asyncio.to_thread(add_user, folder, name, role)
    urls = simulator_urls(folder)
    async with (
        connect(str(folder)) as client,
        playwright_api.async_playwright() as driver,
    ):
        await eventually(lambda: _desk_up(desk), timeout=60)
        browser = await driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            arns = await to_review(client, urls["carrier"], 4)
            order_ids = [arn.rsplit(":", 1)[1] for arn in arns]
            otto = await (
                await browser.new_context(viewport={"width": 1400, "height": 1000})
            ).new_page()
            await sign_in(otto, desk, "otto")

            # The queue: every order waiting, with its failed step and error.
            await eventually(lambda: _rows(otto, desk, 4), timeout=60)
            for order_id in order_ids:
                assert await otto.locator(f'tr:has-text("{order_id}")').count() == 1
            assert await otto.locator('td:has-text("BookShipment")').count() == 4
            if SCREENSHOTS:
                await otto.screenshot(path=f"{SCREENSHOTS}/desk-queue.png", full_page=True)

            # One ticket: the graph shows BookShipment failed and the review waiting.
            await otto.click(f'tr:has-text("{order_ids[0]}") a')
            failed = otto.locator('svg g.state.failed[data-state="BookShipment"]')
            await failed.wait_for()
            assert await otto.locator("svg g.state.failed").count() == 1
            assert (
                await otto.locator('svg g.state.active[data-state="WaitForHumanReview"]').count()
                == 1
            )
            assert await otto.locator("svg g.edge.catch").count() > 0
            assert await otto.locator("svg g.edge.retry").count() > 0
            await otto.locator("details summary").first.click()  # an event's input and output
            assert await otto.locator("details[open] pre").first.is_visible()
            if SCREENSHOTS:
                await otto.screenshot(path=f"{SCREENSHOTS}/desk-ticket.png", full_page=True)
            ticket_url = otto.url

            # A request without the CSRF token is refused, though the cookie goes with it.
            forged = await otto.request.post(ticket_url + "/claim", form={})
            assert forged.status == 403 and "CSRF" in await forged.text()

            # Claim, correct the address, retry: the order then ships there and succeeds.
            await otto.click('button:has-text("Claim")')
            assert (await otto.locator("dd.holder").inner_text()) == "otto"
            await otto.fill('input[name="edit:address.line1"]', "99 Corrected Street")
            await otto.fill('input[name="reason"]', "the customer sent a corrected address")
            await otto.click('button:has-text("Send decision")')
            await otto.locator("p.notice").wait_for()
            assert "resolved" in await otto.locator("p.notice").inner_text()
            assert (await ended(client, arns[0]))["status"] == "SUCCEEDED"
            history = (await client.get_execution_history(arns[0]))["events"]
            bookings = [
                json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["address"]
                for e in history
                if e["type"] == "TaskScheduled"
                and "book-shipment" in e["taskScheduledEventDetails"]["parameters"]
            ]
            assert bookings[-1]["line1"] == "99 Corrected Street"
            assert bookings[0]["line1"] != "99 Corrected Street"

            # A viewer sees the ticket but cannot decide, even by posting the form.
            vera = await (await browser.new_context()).new_page()
            await sign_in(vera, desk, "vera")
            await vera.goto(desk + "/")
            await vera.click(f'tr:has-text("{order_ids[1]}") a')
            assert await vera.locator('button:has-text("Send decision")').count() == 0
            token = await vera.locator('input[name="csrf_token"]').first.get_attribute("value")
            refused = await vera.request.post(
                vera.url + "/decide",
                form={"decision": "fail", "reason": "no", "csrf_token": token or ""},
            )
            assert refused.status == 403 and "vera is a viewer" in await refused.text()

            # One decision over the three left: select, preview, apply, see each result.
            await otto.goto(desk + "/")
            for order_id in order_ids[1:]:
                await otto.locator(f'tr:has-text("{order_id}") input[type="checkbox"]').check()
            await otto.select_option('select[name="decision"]', "compensate")
            await otto.fill('fieldset.bulk input[name="reason"]', "carrier outage: refund them")
            await otto.click('button:has-text("Preview")')
            assert "3" in await otto.locator("p.preview-count b").first.inner_text()
            await otto.click('button:has-text("Apply compensate to 3 ticket(s)")')
            await otto.locator("table.results").wait_for()
            assert await otto.locator("table.results tr.ok").count() == 3
            for arn in arns[1:]:
                assert (await ended(client, arn))["error"] == "OrderFulfillmentFailed"
        finally:
            await browser.close()


async def _desk_up(desk: str) -> bool | None:
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session, session.get(desk + "/healthz") as response:
            return True if response.status == 200 else None
    except aiohttp.ClientError:
        return None


async def _rows(page: Any, desk: str, count: int) -> bool | None:
    await page.goto(desk + "/")
    return (
        True if await page.locator("table.tickets tbody tr[data-ticket]").count() >= count else None
    )
