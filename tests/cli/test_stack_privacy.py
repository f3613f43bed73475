"""`stepstream up` keeps its data to its user and each secret to the process that uses it:
the data folder is 0700, the files in it 0600, and only charge-payment sees the Stripe key."""

from __future__ import annotations

import asyncio
import json
import stat
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from apps.cli.stack_commands import stack_options
from apps.stack.up import Stack

STRIPE_KEY = "sk_test_never_for_the_carrier"
DUMPED = ("book-shipment", "charge-payment", "order-view")


async def eventually(check: Any, timeout: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


def environment_of(folder: Path, name: str) -> dict[str, str] | None:
    log = folder / "logs" / f"{name}.log"
    if not log.exists() or not log.read_text().strip():
        return None
    environment: dict[str, str] = json.loads(log.read_text().splitlines()[0])
    return environment


@pytest.fixture
def secrets_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", STRIPE_KEY)
    monkeypatch.setenv("SOME_UNRELATED_TOKEN", "not for any child")
    monkeypatch.setenv("STEPSTREAM_LOG_LEVEL", "DEBUG")


async def run_stack(folder: Path) -> dict[str, dict[str, str]]:
    """Run the stack's real wiring, each process replaced by one that shows its environment."""
    options = stack_options(folder, log_to_files=True)
    services = [(name, "tests.cli.env_dump") for name, _ in options.services if name in DUMPED]
    async with Stack(replace(options, services=services)):
        seen = {name: await eventually(lambda n=name: environment_of(folder, n)) for name in DUMPED}
        await eventually(lambda: len(list(folder.glob("written-by-*.txt"))) == len(DUMPED))
        return seen


async def test_each_process_gets_only_the_environment_it_needs(
    tmp_path: Path, secrets_in_the_environment: None
) -> None:
    folder = tmp_path / "data"
    seen = await run_stack(folder)

    assert "STRIPE_API_KEY" not in seen["book-shipment"]
    assert STRIPE_KEY not in seen["book-shipment"].values()
    assert STRIPE_KEY not in seen["order-view"].values()
    assert seen["charge-payment"]["STRIPE_API_KEY"] == STRIPE_KEY
    for environment in seen.values():
        assert "SOME_UNRELATED_TOKEN" not in environment
        assert environment["STEPSTREAM_LOG_LEVEL"] == "DEBUG"
        assert environment["STEPSTREAM_DATA_DIR"] == str(folder)
        assert environment["PATH"]


async def test_the_data_folder_and_every_file_in_it_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    await run_stack(folder)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert {p.name for p in files} >= {"orchestrator.db", "simulators.json", "broker.log"}
    assert any(p.name.startswith("written-by-") for p in files)
    assert any(p.parent.name == "logs" for p in files)
    modes = {str(p.relative_to(folder)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
    assert {name: mode for name, mode in modes.items() if mode != "0o600"} == {}
