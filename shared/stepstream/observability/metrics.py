"""The metrics every stepstream process may export, in Prometheus' default registry.

Defined once here so that names and labels stay the same in every process and in the
dashboard (deploy/grafana/stepstream.json). Parts count at the few places where things
happen: the orchestrator's commit (executions, transitions, retries, compensations), the
worker kit (task latency), the consumer loop (records handled), the dead-letter path, the
outbox relay and the review desk.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector

EXECUTIONS_STARTED = Counter(
    "stepstream_executions_started",
    "Executions (orders) started",
    ["state_machine"],
)
EXECUTIONS_ENDED = Counter(
    "stepstream_executions_ended",
    "Executions (orders) ended, by outcome (SUCCEEDED, FAILED, ABORTED, TIMED_OUT)",
    ["state_machine", "outcome"],
)
STATE_TRANSITIONS = Counter(
    "stepstream_state_transitions",
    "States entered, by state type",
    ["state_machine", "state_type"],
)
RETRIES = Counter(
    "stepstream_task_retries",
    "Failed tasks that a Retry rule will try again, by error",
    ["state_machine", "error"],
)
COMPENSATIONS = Counter(
    "stepstream_compensations",
    "Failures a Catch took over (the saga compensates from there), by error",
    ["state_machine", "error"],
)
TASK_SECONDS = Histogram(
    "stepstream_task_seconds",
    "Time a service spent on a task command, by resource (the command's name) and outcome",
    ["resource", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RECORDS_HANDLED = Counter(
    "stepstream_records_handled",
    "Records a consumer group's loop finished handling (throughput)",
    ["group"],
)
DEAD_LETTERS = Counter(
    "stepstream_dead_letters",
    "Messages set aside on the dead-letter topic, by the topic they came from",
    ["source_topic"],
)
OUTBOX_DEPTH = Gauge(
    "stepstream_outbox_depth",
    "Outbox rows committed and not yet published by this orchestrator's relay",
)
OUTBOX_PUBLISHED = Counter(
    "stepstream_outbox_published",
    "Outbox rows published by this orchestrator's relay",
)
REVIEW_BACKLOG = Gauge(
    "stepstream_review_backlog",
    "Review tickets waiting for an operator's decision",
)
REVIEW_OLDEST_AGE = Gauge(
    "stepstream_review_oldest_age_seconds",
    "Age of the oldest review ticket waiting for a decision (0 when none waits)",
)

_ENDINGS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionAborted": "ABORTED",
    "ExecutionTimedOut": "TIMED_OUT",
}
_TASK_FAILURES = frozenset(
    {"TaskFailed", "TaskTimedOut", "LambdaFunctionFailed", "LambdaFunctionTimedOut"}
)


class _Event(Protocol):
    @property
    def type(self) -> str: ...

    @property
    def details(self) -> Any: ...


def record_history(state_machine: str, events: Iterable[_Event]) -> None:
    """Count what a batch of history events says happened to an execution.

    A task failure with a retry delay is a retry; one followed by a state entered in the
    same batch was taken over by a Catch, which is where the saga compensates.
    """
    caught: str | None = None
    for event in events:
        kind = event.type
        if kind == "ExecutionStarted":
            EXECUTIONS_STARTED.labels(state_machine).inc()
        elif kind in _ENDINGS:
            EXECUTIONS_ENDED.labels(state_machine, _ENDINGS[kind]).inc()
        elif kind.endswith("StateEntered"):
            STATE_TRANSITIONS.labels(state_machine, kind.removesuffix("StateEntered")).inc()
            if caught is not None:
                COMPENSATIONS.labels(state_machine, caught).inc()
                caught = None
        elif kind in _TASK_FAILURES:
            error = str(getattr(event.details, "error", "") or "unknown")
            if getattr(event.details, "retryDelaySeconds", None) is not None:
                RETRIES.labels(state_machine, error).inc()
            else:
                caught = error


class LagSource(Protocol):
    """A consumer that knows how far behind the log ends it is."""

    @property
    def group_id(self) -> str: ...

    def lag(self) -> Mapping[tuple[str, int], int]:
        """(topic, partition) -> records between what it read and the log end."""
        ...


_LAG_SOURCES: weakref.WeakSet[Any] = weakref.WeakSet()


def watch_lag(source: LagSource) -> None:
    """Report ``source``'s lag in ``stepstream_consumer_lag`` while it exists."""
    _LAG_SOURCES.add(source)


def unwatch_lag(source: LagSource) -> None:
    _LAG_SOURCES.discard(source)


class _LagCollector(Collector):
    """Reads the lag at scrape time, so an idle or stuck consumer shows its true lag."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "stepstream_consumer_lag",
            "Records between a consumer group member's position and the log end",
            labels=["group", "topic", "partition"],
        )
        for source in list(_LAG_SOURCES):
            for (topic, partition), lag in source.lag().items():
                family.add_metric([source.group_id, topic, str(partition)], lag)
        yield family


REGISTRY.register(_LagCollector())
