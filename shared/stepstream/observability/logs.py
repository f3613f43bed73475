"""Process logging: plain lines for people, or JSON lines for a log pipeline.

With ``STEPSTREAM_LOG_FORMAT=json`` each record is one JSON object carrying, beside the
message, what the process was working on when it logged: the execution ARN, the state
and the command id, set with ``log_context`` around the work (context variables, so each
asyncio task keeps its own).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator
from typing import Any

from pythonjsonlogger.json import JsonFormatter

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "stepstream_log_context", default=None
)
CONTEXT_FIELDS = ("execution_arn", "state", "command_id", "resource")


@contextlib.contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Tag every record logged inside the block with ``fields`` (those not None)."""
    merged = {**(_CONTEXT.get() or {}), **{k: v for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(merged)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def tag_log(**fields: str | None) -> None:
    """Add ``fields`` to the tags of the enclosing ``log_context`` (undone when it ends)."""
    current = _CONTEXT.get()
    if current is not None:
        _CONTEXT.set({**current, **{k: v for k, v in fields.items() if v is not None}})


def current_context() -> dict[str, str]:
    return dict(_CONTEXT.get() or {})


class _ContextFilter(logging.Filter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def filter(self, record: logging.LogRecord) -> bool:
        record.process_name = self.process
        for key, value in (_CONTEXT.get() or {}).items():
            setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
    )


def configure_logging(process: str, *, fmt: str = "text", level: str = "INFO") -> None:
    """Send the process's logs to stderr in ``fmt`` ("text" or "json") from ``level`` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ContextFilter(process))
    formatter: logging.Formatter
    if fmt == "json":
        formatter = json_formatter()
    else:
        formatter = logging.Formatter(f"%(asctime)s {process} %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The context fields a record was tagged with (for tests and formatters)."""
    return {k: getattr(record, k) for k in CONTEXT_FIELDS if hasattr(record, k)}
