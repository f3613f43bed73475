"""OpenTelemetry across the Kafka hops: one execution's spans share a trace, because the
W3C trace context travels in the envelope from the orchestrator to the service and back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from stepstream.messaging.kafka import KafkaSettings
from stepstream.observability.tracing import enable_tracing
from stepstream.worker import CommandContext
from tests.integration.harness import eventually, running_system

MACHINE = {
    "StartAt": "Echo",
    "States": {
        "Echo": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "End": True,
        }
    },
}
BINDINGS = {"functions": {"echo": "echoer"}}

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the process's one provider, set once
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    enable_tracing()
    try:
        yield _EXPORTER
    finally:
        enable_tracing(False)


def _named(finished: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in finished if s.name == name]


async def test_the_service_span_continues_the_trace_of_the_command_across_kafka(
    kafka: KafkaSettings, store_url: str, prefix: str, spans: InMemorySpanExporter
) -> None:
    async def echo(command: CommandContext) -> Any:
        return command.input

    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Traced", MACHINE, BINDINGS)
        await system.add_worker("echoer", {"echo": echo})
        arn = await system.start("Traced", "t1", {"n": 1})
        assert (await system.finished(arn))["status"] == "SUCCEEDED"

        async def replied() -> Any:
            return _named(spans.get_finished_spans(), "orchestrator task.succeeded")

        [reply] = await eventually(replied)
    finished = spans.get_finished_spans()
    [start] = _named(finished, "orchestrator execution.start")
    [task] = _named(finished, "task echo")
    # Start -> command over Kafka -> the service's span -> reply over Kafka -> orchestrator.
    assert task.context.trace_id == start.context.trace_id
    assert task.parent is not None and task.parent.span_id == start.context.span_id
    assert reply.context.trace_id == start.context.trace_id
    assert reply.parent is not None and reply.parent.span_id == task.context.span_id


async def test_without_tracing_no_context_rides_in_the_envelope(
    kafka: KafkaSettings, store_url: str, prefix: str
) -> None:
    seen: list[Any] = []

    async def echo(command: CommandContext) -> Any:
        seen.append(command.envelope.trace)
        return command.input

    async with running_system(kafka, store_url, prefix) as system:
        await system.register("Untraced", MACHINE, BINDINGS)
        await system.add_worker("echoer", {"echo": echo})
        arn = await system.start("Untraced", "u1", {"n": 1})
        assert (await system.finished(arn))["status"] == "SUCCEEDED"
    assert seen == [None]
