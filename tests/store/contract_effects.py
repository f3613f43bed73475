"""Contract: the transactional outbox and the durable timers."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import pytest

from stepstream.store import ExecutionStore, OutboxMessage, OwnedByAnotherStream, Timer

from .builders import T0, armed_timers, events, message, timer
from .conftest import FakeClock


class OutboxContract:
    async def test_pending_messages_come_in_append_order(
        self, store: ExecutionStore, clock: FakeClock
    ) -> None:
        first = OutboxMessage("orders.charge-payment", b'{"n":1}', b"s1", (("trace", b"\x00\xff"),))
        second = OutboxMessage("orders.reserve-stock", b'{"n":2}', None)
        third = OutboxMessage("orders.charge-payment", b'{"n":3}', b"s2")
        await store.append("s1", 0, events("A"), outbox=[first, second])
        later = clock.advance(1)
        await store.append("s2", 0, events("A"), outbox=[third])

        pending = await store.pending_outbox()

        assert [p.message for p in pending] == [first, second, third]
        assert [p.stream_id for p in pending] == ["s1", "s1", "s2"]
        assert [p.recorded_at for p in pending] == [T0, T0, later]
        assert pending[0].id < pending[1].id < pending[2].id

    async def test_an_append_for_the_relay_hands_back_the_rows_it_wrote(
        self, store: ExecutionStore
    ) -> None:
        await store.append("s0", 0, events("A"), outbox=[message("before")])
        first, second = message("first"), message("second")

        appended = await store.append_for_relay("s1", 0, events("A", "B"), outbox=[first, second])

        assert appended.version == 2
        assert [p.message for p in appended.outbox] == [first, second]
        assert list(appended.outbox) == (await store.pending_outbox())[1:]

    async def test_appends_made_together_each_get_their_own_rows(
        self, store: ExecutionStore
    ) -> None:
        streams = [f"s{n}" for n in range(6)]

        appended = await asyncio.gather(
            *(
                store.append_for_relay(s, 0, events("A"), outbox=[message(s), message(s + "'")])
                for s in streams
            )
        )

        pending = await store.pending_outbox(limit=100)
        for stream, result in zip(streams, appended, strict=True):
            assert list(result.outbox) == [p for p in pending if p.stream_id == stream]

    async def test_pending_outbox_honours_its_limit(self, store: ExecutionStore) -> None:
        await store.append(
            "s1", 0, events("A"), outbox=[message(value=b"%d" % i) for i in range(5)]
        )
        got = await store.pending_outbox(limit=2)
        assert [p.message.value for p in got] == [b"0", b"1"]

    async def test_published_messages_leave_the_outbox(self, store: ExecutionStore) -> None:
        await store.append(
            "s1", 0, events("A"), outbox=[message(value=b"%d" % i) for i in range(4)]
        )
        pending = await store.pending_outbox()

        await store.mark_published([pending[0].id, pending[2].id, 10**9])
        await store.mark_published([])

        assert [p.message.value for p in await store.pending_outbox()] == [b"1", b"3"]

    async def test_ids_are_never_reused_after_publishing(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), outbox=[message(), message()])
        old = [p.id for p in await store.pending_outbox()]
        await store.mark_published(old)
        await store.append("s1", 1, events("B"), outbox=[message(value=b"new")])

        [fresh] = await store.pending_outbox()
        assert fresh.id > max(old)
        await store.mark_published(old)
        assert await store.pending_outbox() == [fresh]

    async def test_a_bad_limit_is_refused(self, store: ExecutionStore) -> None:
        with pytest.raises(ValueError, match="limit must be a positive integer"):
            await store.pending_outbox(limit=0)


class TimerContract:
    async def test_timers_set_in_an_append_are_armed(self, store: ExecutionStore) -> None:
        late = timer("t-late", "s1", 60, state="Wait")
        early = timer("t-early", "s1", 5, state="Retry", attempt=2)
        await store.append("s1", 0, events("A"), timers_set=[late, early])
        assert await armed_timers(store) == [early, late]

    async def test_due_timers_are_those_due_by_now_earliest_first(
        self, store: ExecutionStore
    ) -> None:
        await store.append(
            "s1",
            0,
            events("A"),
            timers_set=[timer("c", "s1", 30), timer("a", "s1", 10), timer("b", "s1", 20)],
        )
        await store.append("s2", 0, events("A"), timers_set=[timer("d", "s2", 10)])

        def ids(timers: list[Timer]) -> list[str]:
            return [t.timer_id for t in timers]

        assert ids(await store.due_timers(T0 + timedelta(seconds=9))) == []
        assert ids(await store.due_timers(T0 + timedelta(seconds=20))) == ["a", "d", "b"]
        assert ids(await store.due_timers(T0 + timedelta(hours=1), limit=2)) == ["a", "d"]

    async def test_due_timers_compares_instants_across_time_zones(
        self, store: ExecutionStore
    ) -> None:
        await store.append("s1", 0, events("A"), timers_set=[timer("t", "s1", 10)])
        tokyo = timezone(timedelta(hours=9))
        assert await store.due_timers((T0 + timedelta(seconds=10)).astimezone(tokyo)) != []
        assert await store.due_timers((T0 + timedelta(seconds=9)).astimezone(tokyo)) == []
        [got] = await armed_timers(store)
        assert got.due_at.utcoffset() == timedelta(0)

    async def test_a_naive_now_is_refused(self, store: ExecutionStore) -> None:
        with pytest.raises(ValueError, match="now must be timezone-aware"):
            await store.due_timers(T0.replace(tzinfo=None))

    async def test_an_append_clears_timers_of_its_stream(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), timers_set=[timer("t1", "s1", 1)])
        await store.append("s2", 0, events("A"), timers_set=[timer("t2", "s2", 2)])

        await store.append("s1", 1, events("TimerFired"), timers_cleared=["t1", "never-set", "t2"])

        assert [t.timer_id for t in await armed_timers(store)] == ["t2"]

    async def test_clearing_then_setting_one_id_rearms_it(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), timers_set=[timer("hb", "s1", 10, beat=1)])
        await store.append(
            "s1",
            1,
            events("TaskHeartbeat"),
            timers_cleared=["hb"],
            timers_set=[timer("hb", "s1", 40, beat=2)],
        )
        assert await armed_timers(store) == [timer("hb", "s1", 40, beat=2)]

    async def test_setting_an_armed_id_again_moves_it(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), timers_set=[timer("t", "s1", 10)])
        await store.append("s1", 1, events("B"), timers_set=[timer("t", "s1", 5, moved=True)])
        assert await armed_timers(store) == [timer("t", "s1", 5, moved=True)]

    async def test_another_streams_timer_id_is_refused(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), timers_set=[timer("shared", "s1", 10)])
        with pytest.raises(OwnedByAnotherStream, match="belongs to stream 's1'"):
            await store.append("s2", 0, events("A"), timers_set=[timer("shared", "s2", 1)])
        assert await store.read("s2") == []
        assert await armed_timers(store) == [timer("shared", "s1", 10)]
