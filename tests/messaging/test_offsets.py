"""Commit positions when several records of a partition are handled at once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepstream.messaging.bus import Record
from stepstream.messaging.offsets import OffsetTracker


def rec(offset: int, partition: int = 0, topic: str = "t") -> Record:
    return Record(topic, partition, offset, None, b"")


def test_records_finished_in_order_are_committed_one_by_one() -> None:
    tracker = OffsetTracker()
    tickets = [tracker.track(rec(n)) for n in range(3)]

    committed = []
    for ticket in tickets:
        tracker.finish(ticket)
        committed.append(tracker.take_commit(ticket))

    assert [r.offset if r else None for r in committed] == [0, 1, 2]


def test_a_slow_record_holds_back_the_commit_of_later_ones() -> None:
    tracker = OffsetTracker()
    slow, fast, faster = (tracker.track(rec(n)) for n in (5, 6, 7))

    tracker.finish(faster)
    tracker.finish(fast)
    assert tracker.take_commit(fast) is None

    tracker.finish(slow)
    assert tracker.take_commit(slow) == rec(7)


def test_the_commit_stops_just_below_the_lowest_record_in_flight() -> None:
    tracker = OffsetTracker()
    tickets = {n: tracker.track(rec(n)) for n in range(5)}
    for n in (0, 1, 3, 4):
        tracker.finish(tickets[n])

    assert tracker.take_commit(tickets[4]) == rec(1)
    assert tracker.in_flight() == 1


def test_a_commit_position_is_handed_out_once() -> None:
    tracker = OffsetTracker()
    ticket = tracker.track(rec(0))
    tracker.finish(ticket)

    assert tracker.take_commit(ticket) == rec(0)
    assert tracker.take_commit(ticket) is None


def test_partitions_commit_independently() -> None:
    tracker = OffsetTracker()
    stuck = tracker.track(rec(0, partition=0))
    free = tracker.track(rec(0, partition=1))

    tracker.finish(free)

    assert tracker.take_commit(free) == rec(0, partition=1)
    assert tracker.take_commit(stuck) is None


def test_after_a_rewind_late_finishes_of_older_records_do_not_commit() -> None:
    tracker = OffsetTracker()
    old = tracker.track(rec(3))
    tracker.track(rec(4))
    again = tracker.track(rec(3))  # the group moved the consumer back: a rebalance

    tracker.finish(old)
    assert tracker.take_commit(old) is None

    tracker.finish(again)
    assert tracker.take_commit(again) == rec(3)


@given(st.permutations(range(12)))
def test_whatever_the_finishing_order_nothing_unfinished_is_committed(order: list[int]) -> None:
    tracker = OffsetTracker()
    tickets = [tracker.track(rec(n)) for n in range(12)]
    finished: set[int] = set()
    highest_committed = -1

    for n in order:
        tracker.finish(tickets[n])
        finished.add(n)
        record = tracker.take_commit(tickets[n])
        if record is not None:
            assert record.offset > highest_committed
            assert set(range(record.offset + 1)) <= finished
            highest_committed = record.offset

    assert highest_committed == 11
