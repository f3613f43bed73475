"""docker-compose.yml and deploy/Dockerfile: what they run exists, what they set is read."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from services.reserve_stock.settings import ReserveStockSettings, catalogue_stock
from simulators.carrier import CarrierSimulator
from stepstream.observability.health import HealthChecks, Unhealthy
from stepstream.observability.server import ObservabilityServer
from tests.deploy.support import (
    COMPOSE,
    PROCESS_SETTINGS,
    ROOT,
    absolute_paths,
    image_layout,
    in_context,
    module_file,
    process_reads,
    python_module,
)

SECRETS = {"POSTGRES_PASSWORD": "compose-test-password"}


def _compose_command() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        return ["docker", "compose"]
    return None


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = _compose_command()
    if command is None:
        pytest.skip(
            "neither docker-compose nor the docker compose plugin is installed"
            " (.ci/run installs Debian's docker-compose)"
        )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STEPSTREAM_", "POSTGRES_"))}
    return subprocess.run(
        [*command, "-f", str(COMPOSE), "config"],
        env={**base, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return services


def _ours() -> dict[str, Any]:
    return {name: s for name, s in _services().items() if "command" in s}


def test_compose_config_resolves_with_the_required_secrets_and_refuses_without() -> None:
    done = _config(SECRETS)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert {"kafka", "postgres", "orchestrator", "review-desk", "order-view"} <= set(resolved)
    refused = _config({})
    assert refused.returncode != 0
    assert "POSTGRES_PASSWORD" in refused.stderr


def test_initial_stock_passes_through_as_set_and_defaults_to_the_catalogue() -> None:
    stock = '{"MUG": 5, "TEE": 0}'
    done = _config({**SECRETS, "STEPSTREAM_INITIAL_STOCK": stock})
    assert done.returncode == 0, done.stderr
    env = yaml.safe_load(done.stdout)["services"]["reserve-stock"]["environment"]
    assert env["STEPSTREAM_INITIAL_STOCK"] == stock
    os.environ["STEPSTREAM_INITIAL_STOCK"] = env["STEPSTREAM_INITIAL_STOCK"]
    try:
        assert ReserveStockSettings().initial_stock == json.loads(stock)
    finally:
        del os.environ["STEPSTREAM_INITIAL_STOCK"]

    unset = yaml.safe_load(_config(SECRETS).stdout)["services"]["reserve-stock"]["environment"]
    assert unset.get("STEPSTREAM_INITIAL_STOCK") is None  # left out of the container
    assert ReserveStockSettings().initial_stock == catalogue_stock()


def test_the_processes_that_read_executions_are_given_the_orchestrator_store() -> None:
    done = _config(SECRETS)
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    store = resolved["orchestrator"]["environment"]["STEPSTREAM_STORE_URL"]
    for name in ("review-desk", "order-view", "step-functions-api", "web-desk"):
        assert resolved[name]["environment"].get("STEPSTREAM_STORE_URL") == store, name


def test_the_simulators_start_only_in_their_profile() -> None:
    services = _services()
    assert services["stripe-standin"]["profiles"] == ["simulated"]
    assert services["carrier-simulator"]["profiles"] == ["simulated"]
    assert all("profiles" not in s for n, s in services.items() if n.startswith(("kafka", "post")))


def test_every_file_and_module_that_compose_runs_is_in_the_image() -> None:
    workdir, copies = image_layout()
    for source in copies.values():
        assert source.exists(), f"the Dockerfile copies {source}, which is not in the context"
    for name, service in _ours().items():
        argvs = [service["command"]]
        health = service.get("healthcheck", {})
        if health.get("test", ["NONE"])[0] == "CMD":
            argvs.append(health["test"][1:])
        for argv in argvs:
            module = python_module(argv)
            if module is not None:
                assert module in PROCESS_SETTINGS, f"{name} runs {module}, unknown here"
                found = module_file(module, copies, workdir)
                assert found is not None and found.is_file(), f"{name}: no {module} in the image"
            for path in absolute_paths(argv):
                found = in_context(path, copies)
                assert found is not None and found.is_file(), f"{name}: {path} is not in the image"
    machines = json.loads(_ours()["orchestrator"]["environment"]["STEPSTREAM_STATE_MACHINES"])
    for machine in machines:
        for key in ("definition", "bindings"):
            found = in_context(PurePosixPath(machine[key]), copies)
            assert found is not None and found.is_file(), machine[key]


def test_every_variable_compose_sets_is_one_the_process_reads() -> None:
    for name, service in _ours().items():
        module = python_module(service["command"])
        assert module is not None
        unread = set(service.get("environment", {})) - process_reads(module)
        assert not unread, f"{name} ({module}) reads none of {sorted(unread)}"


def test_every_process_has_a_health_check_on_its_own_health_endpoint() -> None:
    for service in _ours().values():
        if "profiles" in service:
            continue  # the stand-ins
        assert service["healthcheck"]["test"] == ["CMD", "python", "/app/deploy/healthcheck.py"]
        assert service["environment"]["STEPSTREAM_HEALTH_PORT"]
        assert service["depends_on"]["kafka"] == {"condition": "service_healthy"}
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}


# The stand-ins serve /healthz on their API port, named by this variable.
STAND_IN_PORTS = {
    "stripe-standin": "STEPSTREAM_STRIPE_STANDIN_PORT",
    "carrier-simulator": "STEPSTREAM_CARRIER_PORT",
}


def test_each_stand_in_is_health_checked_on_the_port_it_listens_on() -> None:
    services = _services()
    assert {n for n, s in _ours().items() if "profiles" in s} == set(STAND_IN_PORTS)
    for name, variable in STAND_IN_PORTS.items():
        port = services[name]["environment"][variable]
        assert services[name]["healthcheck"]["test"] == [
            "CMD",
            "python",
            "/app/deploy/healthcheck.py",
            port,
        ], name


async def _healthcheck(port: int, *, as_argument: bool = False) -> int:
    argv = [str(port)] if as_argument else []
    env = {k: v for k, v in os.environ.items() if k != "STEPSTREAM_HEALTH_PORT"}
    if not as_argument:
        env["STEPSTREAM_HEALTH_PORT"] = str(port)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "deploy" / "healthcheck.py"),
        *argv,
        env=env,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await process.wait()


async def test_the_container_health_check_follows_the_process_healthz() -> None:
    checks = HealthChecks()
    healthy = True

    async def consumer_group() -> None:
        if not healthy:
            raise Unhealthy("joining the group")

    checks.register("consumer group g", consumer_group)
    async with ObservabilityServer(process="p", checks=checks) as server:
        assert await _healthcheck(server.port) == 0
        healthy = False
        assert await _healthcheck(server.port) == 1
    assert await _healthcheck(server.port) == 1  # nothing listens any more


async def test_the_health_check_given_a_port_follows_a_simulator_healthz() -> None:
    async with CarrierSimulator() as carrier:
        assert await _healthcheck(carrier.port, as_argument=True) == 0
        port = carrier.port
    assert await _healthcheck(port, as_argument=True) == 1  # nothing listens any more
