"""Topic naming: one convention, one configurable prefix."""

from __future__ import annotations

import pytest

from stepstream.messaging.topics import Topics


def test_default_names() -> None:
    topics = Topics()

    assert topics.commands("book-shipment") == "stepstream.commands.book-shipment"
    assert topics.replies() == "stepstream.replies"
    assert topics.requests() == "stepstream.requests"
    assert topics.dead_letter() == "stepstream.dead-letter"
    assert topics.human_review() == "stepstream.human-review"
    assert topics.history() == "stepstream.history"
    assert topics.receipts() == "stepstream.receipts"


def test_a_topic_named_by_a_binding_gets_the_prefix() -> None:
    assert Topics(prefix="prod").named("review.tickets") == "prod.review.tickets"
    with pytest.raises(ValueError, match="topic name"):
        Topics().named("no spaces")


def test_the_prefix_is_applied_to_every_topic() -> None:
    topics = Topics(prefix="staging")

    assert topics.commands("charge-payment") == "staging.commands.charge-payment"
    assert all(name.startswith("staging.") for name in topics.fixed())
    assert len(set(topics.fixed())) == len(topics.fixed())


@pytest.mark.parametrize("prefix", ["", "with space", "slash/es", "ünïcode"])
def test_an_illegal_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="topic prefix"):
        Topics(prefix=prefix)


@pytest.mark.parametrize("name", ["", "book shipment", "a:b"])
def test_an_illegal_service_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="service name"):
        Topics().commands(name)


def test_a_name_too_long_for_kafka_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 249"):
        Topics().commands("x" * 240)
