"""Keyed messages land on the partition the Java client and aiokafka would choose."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner  # type: ignore[import-untyped]
from hypothesis import given
from hypothesis import strategies as st

from stepstream.messaging.kafka import partition_for_key


@given(key=st.binary(max_size=200), partitions=st.integers(min_value=1, max_value=64))
def test_a_key_goes_where_the_default_partitioner_sends_it(key: bytes, partitions: int) -> None:
    all_partitions = list(range(partitions))

    ours = partition_for_key(key, all_partitions, all_partitions)

    assert ours == DefaultPartitioner()(key, all_partitions, all_partitions)


def test_a_remembered_key_follows_a_change_in_the_number_of_partitions() -> None:
    key = b"arn:aws:states:local:000000000000:execution:Orders:o-1"
    for count in (12, 5, 12, 1):
        partitions = list(range(count))

        assert partition_for_key(key, partitions, partitions) == DefaultPartitioner()(
            key, partitions, partitions
        )


def test_an_unkeyed_message_goes_to_an_available_partition() -> None:
    assert partition_for_key(None, [0, 1, 2], [2]) == 2
