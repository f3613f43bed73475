"""The in-memory fake meets the same contract as the real stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from stepstream.store import ExecutionStore, InMemoryStore

from .contract import ExecutionStoreContract


class MemoryBackend:
    def make(self, clock: Callable[[], datetime]) -> ExecutionStore:
        return InMemoryStore(clock=clock)


class TestInMemoryStore(ExecutionStoreContract):
    @pytest.fixture
    def backend(self) -> MemoryBackend:
        return MemoryBackend()
