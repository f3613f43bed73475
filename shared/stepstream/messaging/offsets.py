"""Which offset is safe to commit when several records of a partition are in flight.

Committing a record's offset tells the group that it and everything before it is done,
so with records finishing out of order the commit may only move up to just below the
lowest record still in flight.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from stepstream.messaging.bus import Record


@dataclass
class _Partition:
    highest_seen: int
    # Offsets arrive in increasing order, so the first key is the lowest in flight.
    in_flight: dict[int, Record] = field(default_factory=dict)
    finished: list[int] = field(default_factory=list)  # a heap
    finished_records: dict[int, Record] = field(default_factory=dict)
    committed: int = -1


@dataclass(frozen=True)
class Ticket:
    """What ``OffsetTracker.track`` hands out for ``finish`` and ``take_commit``."""

    record: Record
    _partition: _Partition = field(repr=False, compare=False)


class OffsetTracker:
    """Tracks records from receipt to finish and says how far each partition may commit."""

    def __init__(self) -> None:
        self._partitions: dict[tuple[str, int], _Partition] = {}

    def track(self, record: Record) -> Ticket:
        """Note that ``record`` was received and its handling has begun."""
        where = (record.topic, record.partition)
        state = self._partitions.get(where)
        # An offset at or below one already seen means the consumer was moved back to
        # the committed offset (a rebalance). Records from before that are handled again
        # anyway, so their late finishes must not move the commit.
        if state is None or record.offset <= state.highest_seen:
            state = _Partition(highest_seen=record.offset)
            self._partitions[where] = state
        state.highest_seen = record.offset
        state.in_flight[record.offset] = record
        return Ticket(record, state)

    def finish(self, ticket: Ticket) -> None:
        """Note that the ticket's record is done."""
        state = ticket._partition
        offset = ticket.record.offset
        if state.in_flight.pop(offset, None) is not None:
            heapq.heappush(state.finished, offset)
            state.finished_records[offset] = ticket.record

    def take_commit(self, ticket: Ticket) -> Record | None:
        """The record to commit in the ticket's partition now, if the commit can move.

        That is the highest finished record below every record still in flight, returned
        once: later calls return None until the partition can move further. Tickets from
        before a rebalance get None.
        """
        state = ticket._partition
        if self._partitions.get((ticket.record.topic, ticket.record.partition)) is not state:
            return None
        lowest_in_flight = next(iter(state.in_flight), None)
        best: Record | None = None
        while state.finished and (lowest_in_flight is None or state.finished[0] < lowest_in_flight):
            best = state.finished_records.pop(heapq.heappop(state.finished))
        if best is None or best.offset <= state.committed:
            return None
        state.committed = best.offset
        return best

    def in_flight(self) -> int:
        """How many tracked records are not finished."""
        return sum(len(state.in_flight) for state in self._partitions.values())
