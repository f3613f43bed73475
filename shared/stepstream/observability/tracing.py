"""OpenTelemetry traces across the Kafka hops: the trace context travels in the envelope.

Off unless ``STEPSTREAM_TRACING`` is true or ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. When
off, nothing is recorded and no context is added to messages. Spans: the orchestrator
sends a command inside a ``send <resource>`` span, whose W3C ``traceparent`` the envelope
carries; the service handles it inside a ``handle <resource>`` span that continues that
trace, and its reply carries the context back.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.trace import SpanKind

_TRACER_NAME = "stepstream"
_enabled = False


def configure_tracing(process: str, *, enabled: bool) -> None:
    """Install a tracer provider exporting over OTLP, if tracing is asked for."""
    global _enabled
    if not (enabled or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")):
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": process}))
    provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    trace.set_tracer_provider(provider)
    _enabled = True


def enable_tracing(enabled: bool = True) -> None:
    """Turn spans and context propagation on or off (the caller installs a provider)."""
    global _enabled
    _enabled = enabled


def tracing_enabled() -> bool:
    return _enabled


def _otlp_exporter() -> SpanExporter:
    # Imported only when tracing is on: it loads protobuf and an HTTP client.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    exporter: SpanExporter = OTLPSpanExporter()
    return exporter


def inject() -> dict[str, str] | None:
    """The current trace context as W3C headers, or None when tracing is off."""
    if not _enabled:
        return None
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier or None


@contextlib.contextmanager
def span(
    name: str,
    *,
    parent: Mapping[str, str] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, str] | None = None,
) -> Iterator[None]:
    """A span named ``name``, continuing the trace of ``parent`` if given; nothing when off."""
    if not _enabled:
        yield
        return
    ctx = propagate.extract(dict(parent)) if parent else otel_context.get_current()
    tracer = trace.get_tracer(_TRACER_NAME)
    with tracer.start_as_current_span(
        name, context=ctx, kind=kind, attributes=dict(attributes or {})
    ):
        yield
