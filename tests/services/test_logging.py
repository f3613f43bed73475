"""What a service logs: its own messages, not a line per HTTP request of its clients."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from services.common.running import PER_REQUEST_LOGGERS, quiet_per_request_loggers


@pytest.fixture(autouse=True)
def restored_levels() -> Iterator[None]:
    before = {name: logging.getLogger(name).level for name in PER_REQUEST_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_http_clients_log_only_warnings_at_the_usual_levels() -> None:
    quiet_per_request_loggers("INFO")

    for name in ("httpx", "stripe"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO)
        assert logger.isEnabledFor(logging.WARNING)


def test_asking_for_debug_keeps_every_request_line() -> None:
    for name in PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)

    quiet_per_request_loggers("DEBUG")

    assert all(logging.getLogger(name).level == logging.NOTSET for name in PER_REQUEST_LOGGERS)
