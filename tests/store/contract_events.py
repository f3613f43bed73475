"""Contract: event streams, optimistic concurrency, and all-or-nothing appends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from stepstream.store import (
    ConcurrencyError,
    ExecutionStore,
    NewEvent,
    OutboxMessage,
    Timer,
)

from .builders import T0, armed_timers, arn, events, execution, message, snapshot, timer
from .conftest import FakeClock


class EventContract:
    async def test_an_unknown_stream_reads_empty(self, store: ExecutionStore) -> None:
        assert await store.read("nobody") == []

    async def test_append_returns_the_new_version_and_reads_back(
        self, store: ExecutionStore, clock: FakeClock
    ) -> None:
        version = await store.append("s1", 0, events("A", "B", "C", color="red"))

        got = await store.read("s1")
        assert version == 3
        assert [(e.stream_id, e.version, e.type) for e in got] == [
            ("s1", 1, "A"),
            ("s1", 2, "B"),
            ("s1", 3, "C"),
        ]
        assert [e.data for e in got] == [{"step": i, "color": "red"} for i in (1, 2, 3)]
        assert {e.recorded_at for e in got} == {clock.now()}

    async def test_versions_continue_and_read_starts_after_a_version(
        self, store: ExecutionStore, clock: FakeClock
    ) -> None:
        await store.append("s1", 0, events("A", "B"))
        first_at = clock.now()
        later = clock.advance(5)
        assert await store.append("s1", 2, events("C")) == 3

        tail = await store.read("s1", after_version=1)
        assert [(e.version, e.type, e.recorded_at) for e in tail] == [
            (2, "B", first_at),
            (3, "C", later),
        ]
        assert await store.read("s1", after_version=3) == []

    async def test_streams_are_independent(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"))
        await store.append("s2", 0, events("X", "Y"))
        assert [e.type for e in await store.read("s1")] == ["A"]
        assert [e.type for e in await store.read("s2")] == ["X", "Y"]

    async def test_data_round_trips_as_json_keeping_key_order(self, store: ExecutionStore) -> None:
        data: dict[str, Any] = {
            "z": 1,
            "a": [1, 2.5, None, True, {"nested": "ünïcödé ✓"}],
            "big": 2**62,
            "empty": {},
            "nul": "a\u0000b",
        }
        await store.append("s1", 0, [NewEvent("A", data)])
        [got] = await store.read("s1")
        assert got.data == data
        assert list(got.data) == ["z", "a", "big", "empty", "nul"]

    async def test_the_store_keeps_its_own_copy(self, store: ExecutionStore) -> None:
        data: dict[str, Any] = {"items": [1]}
        await store.append("s1", 0, [NewEvent("A", data)])
        data["items"].append(2)
        (await store.read("s1"))[0].data["items"].append(3)
        assert (await store.read("s1"))[0].data == {"items": [1]}

    @pytest.mark.parametrize(("expected", "actual"), [(0, 2), (1, 2), (3, 2)])
    async def test_a_wrong_expected_version_is_refused(
        self, store: ExecutionStore, expected: int, actual: int
    ) -> None:
        await store.append("s1", 0, events("A", "B"))
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("s1", expected, events("C"))
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
            "s1",
            expected,
            actual,
        )

    async def test_expecting_history_on_a_new_stream_is_refused(
        self, store: ExecutionStore
    ) -> None:
        with pytest.raises(ConcurrencyError) as caught:
            await store.append("fresh", 1, events("A"))
        assert caught.value.actual == 0
        assert await store.read("fresh") == []

    async def test_a_conflict_writes_nothing_at_all(self, store: ExecutionStore) -> None:
        a = arn("order-1")
        await store.append(
            "s1",
            0,
            events("ExecutionStarted"),
            outbox=[message(value=b"first")],
            timers_set=[timer("t-keep", "s1", 10)],
            execution=execution(a),
        )
        before = await snapshot(store, ["s1"])

        with pytest.raises(ConcurrencyError):
            await store.append(
                "s1",
                0,
                events("TaskScheduled", "TaskSucceeded"),
                outbox=[message(value=b"second")],
                timers_set=[timer("t-new", "s1", 20)],
                timers_cleared=["t-keep"],
                execution=execution(a, status="SUCCEEDED", output="{}"),  # type: ignore[arg-type]
            )

        assert await snapshot(store, ["s1"]) == before
        assert await store.append("s1", 1, events("TaskScheduled")) == 2

    async def test_racing_appenders_exactly_one_wins(self, store: ExecutionStore) -> None:
        for expected in range(5):
            results = await asyncio.gather(
                *(
                    store.append("race", expected, [NewEvent("Step", {"by": racer})])
                    for racer in range(4)
                ),
                return_exceptions=True,
            )
            winners = [r for r in results if not isinstance(r, BaseException)]
            losers = [r for r in results if isinstance(r, ConcurrencyError)]
            assert winners == [expected + 1]
            assert len(losers) == 3
        history = await store.read("race")
        assert [e.version for e in history] == [1, 2, 3, 4, 5]

    async def test_a_refused_append_leaves_concurrent_ones_alone(
        self, store: ExecutionStore
    ) -> None:
        await store.append("busy", 0, events("A"))
        results = await asyncio.gather(
            store.append("s1", 0, events("A"), outbox=[message(value=b"s1")]),
            store.append("busy", 0, events("B"), outbox=[message(value=b"busy")]),
            store.append("s2", 0, events("A"), outbox=[message(value=b"s2")]),
            return_exceptions=True,
        )
        assert results[0] == 1 and results[2] == 1
        assert isinstance(results[1], ConcurrencyError)
        assert [p.message.value for p in await store.pending_outbox()] == [b"s1", b"s2"]
        assert [e.type for e in await store.read("busy")] == ["A"]

    async def test_an_append_without_events_checks_the_version_and_writes_its_effects(
        self, store: ExecutionStore
    ) -> None:
        await store.append("s1", 0, events("A", "B"))
        again = OutboxMessage("commands", b"re-sent", b"s1")

        assert await store.append("s1", 2, [], outbox=[again]) == 2
        with pytest.raises(ConcurrencyError):
            await store.append("s1", 1, [], outbox=[again])

        assert [p.message for p in await store.pending_outbox()] == [again]
        assert len(await store.read("s1")) == 2

    async def test_a_new_stream_may_start_with_an_append_without_events(
        self, store: ExecutionStore
    ) -> None:
        assert await store.append("s1", 0, [], outbox=[message(value=b"early")]) == 0
        assert await store.read("s1") == []
        assert await store.append("s1", 0, events("A")) == 1
        with pytest.raises(ConcurrencyError):
            await store.append("s1", 0, events("A"))

    @pytest.mark.parametrize(
        ("stream", "expected", "new", "complaint"),
        [
            ("", 0, events("A"), "stream_id"),
            ("s1", -1, events("A"), "expected_version"),
            ("s1", 0, [NewEvent("", {})], "event 1 type"),
            ("s1", 0, [NewEvent("A", {"x": {1, 2}})], "event 1 (A) data"),
            ("s1", 0, [NewEvent("A", {}), NewEvent("B", {"x": float("nan")})], "event 2 (B)"),
        ],
    )
    async def test_malformed_events_are_refused_by_name(
        self, store: ExecutionStore, stream: str, expected: int, new: list[NewEvent], complaint: str
    ) -> None:
        with pytest.raises(ValueError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
            await store.append(stream, expected, new)
        assert await store.read("s1") == []

    @pytest.mark.parametrize(
        ("effects", "complaint"),
        [
            ({"outbox": [OutboxMessage("", b"x")]}, "outbox message 1 topic"),
            (
                {"outbox": [OutboxMessage("t", "text")]},  # type: ignore[arg-type]
                "outbox message 1 value must be bytes",
            ),
            (
                {"outbox": [OutboxMessage("t", b"x", headers=(("h", "v"),))]},  # type: ignore[arg-type]
                "headers must be",
            ),
            ({"timers_set": [timer("t", "other", 1)]}, "belongs to stream 'other'"),
            ({"timers_set": [Timer("t", "s1", T0.replace(tzinfo=None))]}, "timezone-aware"),
            ({"timers_set": [timer("t", "s1", 1), timer("t", "s1", 2)]}, "set twice"),
            (
                {"execution": execution(arn("x"), status="DONE")},  # type: ignore[arg-type]
                "status 'DONE' is not one of",
            ),
            ({"execution": execution(arn("x"), input_="{oops")}, "execution input is not valid"),
        ],
    )
    async def test_malformed_effects_are_refused_by_name(
        self, store: ExecutionStore, effects: dict[str, Any], complaint: str
    ) -> None:
        with pytest.raises(ValueError, match=complaint):
            await store.append("s1", 0, events("A"), **effects)
        assert await store.read("s1") == []
        assert await store.pending_outbox() == []
        assert await armed_timers(store) == []
