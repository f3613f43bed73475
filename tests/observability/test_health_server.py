"""/healthz and /metrics: what an operator's probe and Prometheus read from a process."""

from __future__ import annotations

import gc
import json
import logging

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from stepstream.asl.history import HistoryEvent
from stepstream.observability import metrics
from stepstream.observability.health import HealthChecks, Unhealthy
from stepstream.observability.logs import configure_logging, log_context, tag_log
from stepstream.observability.server import ObservabilityServer


async def _passes() -> None:
    return None


async def _fails() -> None:
    raise Unhealthy("no broker answers")


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as answer:
        return answer.status, await answer.text()


async def test_healthz_is_200_when_every_check_passes_and_503_naming_the_failing_one() -> None:
    checks = HealthChecks()
    checks.register("database", _passes)
    async with ObservabilityServer(process="p", checks=checks) as server:
        status, body = await _get(f"{server.url}/healthz")
        assert (status, json.loads(body)["checks"]) == (200, {"database": "ok"})
        remove = checks.register("kafka", _fails)
        status, body = await _get(f"{server.url}/healthz")
        assert status == 503
        assert json.loads(body)["checks"] == {"database": "ok", "kafka": "no broker answers"}
        remove()
        assert (await _get(f"{server.url}/healthz"))[0] == 200


async def test_a_process_whose_checks_fail_is_still_alive() -> None:
    checks = HealthChecks()
    checks.register("kafka", _fails)
    async with ObservabilityServer(process="p", checks=checks) as server:
        assert (await _get(f"{server.url}/healthz"))[0] == 503
        status, body = await _get(f"{server.url}/livez")
    assert (status, json.loads(body)["status"]) == (200, "alive")


async def test_a_process_with_nothing_to_check_yet_is_not_healthy() -> None:
    async with ObservabilityServer(process="p", checks=HealthChecks()) as server:
        status, body = await _get(f"{server.url}/healthz")
    assert (status, json.loads(body)["status"]) == (503, "starting")


async def test_a_check_goes_with_the_part_that_registered_it() -> None:
    class Part:
        async def check(self) -> None:
            return None

    checks = HealthChecks()
    part = Part()
    checks.register("part", part.check, owner=part)
    assert checks.names() == ["part"]
    del part
    gc.collect()
    assert checks.names() == []


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def _event(n: int, kind: str, details: dict[str, object] | None = None) -> HistoryEvent:
    record = {"id": n, "previousEventId": n - 1, "timestamp": "2026-01-01T00:00:00+00:00"}
    return HistoryEvent.from_record({**record, "type": kind, "details": details})


async def test_metrics_count_a_history_retry_catch_and_outcome() -> None:
    machine = "MetricsSpec"
    failed = {"error": "CarrierUnavailable", "cause": "503", "retryDelaySeconds": 1.0}
    rejected = {"error": "ShipmentRejected", "cause": "no such street"}
    metrics.record_history(
        machine,
        [
            _event(1, "ExecutionStarted", {}),
            _event(2, "TaskStateEntered", {"name": "Book"}),
            _event(3, "TaskFailed", failed),
            _event(4, "TaskFailed", rejected),
            _event(5, "TaskStateExited", {"name": "Book"}),
            _event(6, "ParallelStateEntered", {"name": "Compensate"}),
            _event(7, "ExecutionFailed", {"error": "OrderFulfillmentFailed"}),
        ],
    )
    async with ObservabilityServer(process="p", checks=HealthChecks()) as server:
        status, text = await _get(f"{server.url}/metrics")
    assert status == 200
    m = {"state_machine": machine}
    assert _value(text, "stepstream_executions_started_total", **m) == 1
    assert _value(text, "stepstream_executions_ended_total", outcome="FAILED", **m) == 1
    assert _value(text, "stepstream_state_transitions_total", state_type="Task", **m) == 1
    assert _value(text, "stepstream_state_transitions_total", state_type="Parallel", **m) == 1
    assert _value(text, "stepstream_task_retries_total", error="CarrierUnavailable", **m) == 1
    assert _value(text, "stepstream_compensations_total", error="ShipmentRejected", **m) == 1
    assert _value(text, "stepstream_compensations_total", error="CarrierUnavailable", **m) == 0


def test_json_logs_carry_what_the_process_was_working_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("spec", fmt="json")
    try:
        with log_context(execution_arn="arn:aws:states:local:0:execution:M:o-1", command_id="c-1"):
            logging.getLogger("spec").warning("carrier slow")
        logging.getLogger("spec").warning("idle")
    finally:
        logging.getLogger().handlers.clear()
    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert first["message"] == "carrier slow"
    assert first["level"] == "WARNING"
    assert first["execution_arn"] == "arn:aws:states:local:0:execution:M:o-1"
    assert first["command_id"] == "c-1"
    assert first["process_name"] == "spec"
    assert "execution_arn" not in second


def test_a_state_tagged_inside_a_context_is_logged_until_the_context_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("spec", fmt="json")
    try:
        with log_context(execution_arn="arn:e"):
            tag_log(state="BookShipment")
            logging.getLogger("spec").warning("booking")
        tag_log(state="ignored outside a context")
        logging.getLogger("spec").warning("after")
    finally:
        logging.getLogger().handlers.clear()
    inside, after = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert (inside["execution_arn"], inside["state"]) == ("arn:e", "BookShipment")
    assert "state" not in after
