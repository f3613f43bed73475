"""Noticing that a broker came back empty under a running consumer.

A memory-only broker that is restarted has no topics, messages or committed offsets,
while its consumers still hold positions in logs that are gone. Measured on the embedded
broker (Tansu 0.6, aiokafka 0.14): fetches beyond the new log end come back empty without
an out-of-range error, topics come back auto-created by the first client that names them
(with the broker's default partition count), and a consumer that rejoined can sit at
position 0 of a partition with messages and receive nothing. So the consumer is
checked from outside: a log end below what it has already read, or committed offsets
that the broker no longer knows, can only mean the logs were lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka import TopicPartition  # type: ignore[import-untyped]


async def lost_partitions(
    consumer: Any,
    read_up_to: Mapping[TopicPartition, int],
    committed_by_us: Mapping[TopicPartition, int],
    known_behind: Mapping[TopicPartition, int] | None = None,
) -> dict[TopicPartition, int]:
    """The assigned partitions whose broker-side state went back behind this consumer's.

    ``read_up_to`` is the offset after the last record handed out, ``committed_by_us``
    the last offset this member committed; both are snapshots taken before asking, so a
    commit landing meanwhile cannot look like a loss. Each partition comes with the log
    end the broker answered.

    ``known_behind`` holds the log ends that stood behind when this consumer last started
    again. Measured on the embedded broker after a restart, a partition's log end can
    stay behind records that a consumer reads from it, read after read: that end has
    not gone back any further, so it is no new loss (one that is would answer an end
    below it, or lose the commits).
    """
    known = known_behind or {}
    assigned = set(consumer.assignment())
    watched = assigned & (set(read_up_to) | set(committed_by_us))
    if not watched:
        return {}
    listed = await consumer.end_offsets(sorted(watched))
    # A partition may have moved to another member while the end offsets were asked for.
    still = set(consumer.assignment())
    ends = {tp: _log_end(consumer, tp, listed.get(tp, 0), still) for tp in watched}
    lost = {
        tp: end
        for tp in watched
        if (end := ends[tp]) is not None
        and end < read_up_to.get(tp, 0)
        and (tp not in known or end < known[tp])
    }
    for tp in sorted(watched - set(lost)):
        ours = committed_by_us.get(tp)
        if ours is None:
            continue
        theirs = await consumer.committed(tp)
        # Another member may have committed further after a rebalance, never less.
        if theirs is None or theirs < ours:
            end = ends[tp]
            lost[tp] = listed.get(tp, 0) if end is None else end
    return lost


def _log_end(
    consumer: Any, tp: TopicPartition, listed: int, assigned: set[TopicPartition]
) -> int | None:
    """The partition's log end as far as it can be trusted; None until a fetch told it.

    The embedded broker answers ListOffsets with the base offset of the partition's last
    record batch plus one, so after a batch of several records it answers below records
    that were read (measured: 3 after a batch holding offsets 2 to 6, until a batch of
    one record follows), while its fetches report the true end. Read as a loss, that
    answer restarted consumers again and again after a broker came back, each restart
    a rejoin and a re-read. So the fetches' end counts, and ListOffsets' only where it
    is further; a partition not fetched since it was assigned is judged after its first
    fetch. A broker that really lost the log reports the shorter end in that fetch.
    """
    if tp not in assigned:
        return None  # aiokafka's highwater() asserts the partition is assigned
    fetched = consumer.highwater(tp)
    return None if fetched is None else max(listed, fetched)
