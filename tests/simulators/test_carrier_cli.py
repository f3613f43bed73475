"""``python -m simulators.carrier``: serves until SIGTERM, refuses bad options."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from .carrier_fixtures import shipment_body

READY_PREFIX = "carrier simulator listening on "


@asynccontextmanager
async def simulator_process(
    *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[asyncio.subprocess.Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators.carrier",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_it_serves_on_the_given_port_until_sigterm() -> None:
    env = {"STEPSTREAM_CARRIER_API_KEY": "from-env"}
    async with simulator_process("--port", "0", "--seed", "3", env=env) as process:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        assert line.startswith(READY_PREFIX), line
        url = line.removeprefix(READY_PREFIX).strip()
        assert url.startswith("http://127.0.0.1:")

        headers = {"Authorization": "Bearer from-env"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as http:
            booked = await http.post("/v1/shipments", json=shipment_body())
            seed = (await http.get("/_admin/faults")).json()["seed"]

        process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), timeout=20)

    assert booked.status_code == 201
    assert seed == 3
    assert returncode == 0


async def test_bad_initial_faults_are_refused_naming_the_field() -> None:
    async with simulator_process("--port", "0", "--faults", '{"rate_503": 7}') as process:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)

    assert process.returncode == 2
    assert "rate_503" in stderr.decode()


async def test_initial_faults_are_in_force_from_the_start() -> None:
    faults = '{"rate_429": 1, "retry_after_seconds": 4}'
    options = ("--port", "0", "--api-key", "k1", "--faults", faults)
    async with simulator_process(*options) as process:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), timeout=20)).decode()
        url = line.removeprefix(READY_PREFIX).strip()
        headers = {"Authorization": "Bearer k1"}
        async with httpx.AsyncClient(base_url=url, headers=headers) as http:
            response = await http.post("/v1/shipments", json=shipment_body())

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "4"
