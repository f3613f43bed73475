"""The one contract every execution store must meet, run against each backend.

A backend's test module subclasses ``ExecutionStoreContract`` (or, for a store that
keeps its data, ``DurableStoreContract``) and provides a ``backend`` fixture.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from stepstream.store import (
    ConcurrencyError,
    ExecutionStore,
    NewEvent,
    StoreNotOpen,
)

from .builders import StoreBackend, arn, events, execution, message, snapshot, timer
from .conftest import FakeClock
from .contract_effects import OutboxContract, TimerContract
from .contract_events import EventContract
from .contract_index import BINDINGS, DEFINITION, ExecutionIndexContract, RegistryContract


class ExecutionStoreContract(
    EventContract, OutboxContract, TimerContract, ExecutionIndexContract, RegistryContract
):
    @pytest.fixture
    async def store(self, backend: StoreBackend, clock: FakeClock) -> AsyncIterator[ExecutionStore]:
        store = backend.make(clock.now)
        await store.open()
        try:
            yield store
        finally:
            await store.close()

    async def test_a_store_must_be_open_to_use(
        self, backend: StoreBackend, clock: FakeClock
    ) -> None:
        store = backend.make(clock.now)
        with pytest.raises(StoreNotOpen):
            await store.read("s1")
        async with store:
            await store.append("s1", 0, events("A"))
        with pytest.raises(StoreNotOpen):
            await store.append("s1", 1, events("B"))

    async def test_opening_twice_is_harmless(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"))
        await store.open()
        assert len(await store.read("s1")) == 1


class DurableStoreContract(ExecutionStoreContract):
    """For stores whose data outlives the handle: reopening, and several handles."""

    async def test_everything_survives_close_and_reopen(
        self, backend: StoreBackend, clock: FakeClock
    ) -> None:
        streams = ["s1", "s2"]
        async with backend.make(clock.now) as first:
            await first.append(
                "s1",
                0,
                events("ExecutionStarted", "TaskScheduled"),
                outbox=[message(value=b"charge")],
                timers_set=[timer("t1", "s1", 30, kind="TimeoutSeconds")],
                execution=execution(arn("order-1")),
            )
            await first.put_state_machine("Fulfilment", DEFINITION, BINDINGS)
            before = await snapshot(first, streams)
            machines = await first.list_state_machines()

        async with backend.make(clock.now) as second:
            assert await snapshot(second, streams) == before
            assert await second.list_state_machines() == machines
            assert await second.append("s1", 2, events("TaskSucceeded")) == 3

    async def test_handles_racing_on_one_stream_exactly_one_wins(
        self, backend: StoreBackend, clock: FakeClock
    ) -> None:
        async with backend.make(clock.now) as one, backend.make(clock.now) as two:
            for expected in range(5):
                results = await asyncio.gather(
                    *(
                        handle.append("race", expected, [NewEvent("Step", {"by": i})])
                        for i, handle in enumerate([one, two, one, two])
                    ),
                    return_exceptions=True,
                )
                assert [r for r in results if not isinstance(r, BaseException)] == [expected + 1]
                assert sum(isinstance(r, ConcurrencyError) for r in results) == 3
            assert [e.version for e in await two.read("race")] == [1, 2, 3, 4, 5]
            assert await one.read("race") == await two.read("race")

    async def test_a_handle_sees_what_another_wrote(
        self, backend: StoreBackend, clock: FakeClock
    ) -> None:
        async with backend.make(clock.now) as one, backend.make(clock.now) as two:
            await one.append("s1", 0, events("A"))
            assert [e.type for e in await two.read("s1")] == ["A"]
            with pytest.raises(ConcurrencyError):
                await two.append("s1", 0, events("A"))
