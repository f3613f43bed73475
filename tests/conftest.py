"""What every part of the suite shares: one embedded broker for the session.

Tests that use it keep to topics and consumer groups of their own (a unique prefix), so
one broker serves them all; the tests that restart or wipe a broker start their own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import settings

from stepstream.broker import EmbeddedBroker

# Speed is measured by the benchmarks, never asserted: a per-example deadline would fail
# a correct property on a loaded machine.
settings.register_profile("stepstream", deadline=None)
settings.load_profile("stepstream")


@pytest.fixture(scope="session")
def broker() -> Iterator[EmbeddedBroker]:
    embedded = EmbeddedBroker()
    # A plain process, started from a thread of its own so no test's event loop owns it
    # and the first test to ask may do so from inside a running loop.
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, embedded.start()).result()
        try:
            yield embedded
        finally:
            thread.submit(asyncio.run, embedded.stop()).result()
