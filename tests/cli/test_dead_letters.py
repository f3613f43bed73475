"""`stepstream dead-letters`: list what was set aside, show one in full, replay it to
where it came from (once, unless forced), against the real embedded broker."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from stepstream.broker import EmbeddedBroker
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Record
from stepstream.messaging.dead_letter import HEADER_PREFIX, send_to_dead_letter
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topic_reader import read_topic
from stepstream.messaging.topics import Topics
from tests.review.support import advertise_stack, stepstream

PAYLOAD = {"kind": "command", "order": {"id": "ord-1", "qty": 3}}


@pytest.fixture
async def dead_lettered(broker: EmbeddedBroker, tmp_path: Path) -> tuple[str, Topics]:
    """A stack folder whose dead-letter topic holds one JSON record set aside by a group."""
    topics = Topics(f"dl{uuid.uuid4().hex[:8]}")
    source = f"{topics.prefix}.commands.book-shipment"
    bootstrap = broker.bootstrap_servers
    await ensure_topics(bootstrap, [TopicSpec(topics.dead_letter()), TopicSpec(source)])
    original = Record(
        topic=source,
        partition=2,
        offset=41,
        key=b"exec-1",
        value=json.dumps(PAYLOAD).encode(),
        headers=(("trace", b"t-1"),),
    )
    async with KafkaPublisher(settings=KafkaSettings(bootstrap_servers=bootstrap)) as publisher:
        await send_to_dead_letter(
            publisher, topics.dead_letter(), original, "schema mismatch", consumer_group="g-ship"
        )
        # What the oversized-letter change adds: any further stepstream.dlq.* header shows.
        await publisher.publish_raw(
            topics.dead_letter(),
            b"exec-2",
            b"not json",
            [
                (HEADER_PREFIX + "reason", b"too large"),
                (HEADER_PREFIX + "source-topic", source.encode()),
                (HEADER_PREFIX + "source-partition", b"0"),
                (HEADER_PREFIX + "source-offset", b"7"),
                (HEADER_PREFIX + "truncated", b"true"),
            ],
        )
    advertise_stack(
        tmp_path, KafkaSettings(bootstrap_servers=bootstrap), "sqlite:///x", topics.prefix
    )
    return str(tmp_path), topics


async def test_list_shows_reason_source_group_when_and_size(
    dead_lettered: tuple[str, Topics], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, topics = dead_lettered
    code, out, _ = await stepstream(capsys, "dead-letters", "list", "--json", "--data-dir", folder)
    assert code == 0
    [first, second] = sorted(json.loads(out), key=lambda e: e["sourceOffset"], reverse=True)
    assert first["reason"] == "schema mismatch"
    assert (first["sourceTopic"], first["sourcePartition"], first["sourceOffset"]) == (
        f"{topics.prefix}.commands.book-shipment",
        2,
        41,
    )
    assert first["consumerGroup"] == "g-ship" and first["deadLetteredAt"]
    assert first["size"] == len(json.dumps(PAYLOAD).encode())
    assert second["reason"] == "too large"

    code, out, _ = await stepstream(capsys, "dead-letters", "list", "--data-dir", folder)
    assert code == 0 and "schema mismatch" in out and "g-ship" in out and first["id"] in out


async def test_show_has_everything_with_a_json_payload_pretty_printed(
    dead_lettered: tuple[str, Topics], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = dead_lettered
    _, out, _ = await stepstream(capsys, "dead-letters", "list", "--json", "--data-dir", folder)
    ids = {e["reason"]: e["id"] for e in json.loads(out)}
    code, out, _ = await stepstream(
        capsys, "dead-letters", "show", ids["schema mismatch"], "--json", "--data-dir", folder
    )
    shown = json.loads(out)
    assert code == 0
    assert shown["payload"] == PAYLOAD and shown["key"] == "exec-1"
    assert shown["headers"] == {"trace": "t-1"}
    code, out, _ = await stepstream(
        capsys, "dead-letters", "show", ids["schema mismatch"], "--data-dir", folder
    )
    assert code == 0 and json.dumps(PAYLOAD, indent=2) in out

    code, out, _ = await stepstream(
        capsys, "dead-letters", "show", ids["too large"], "--json", "--data-dir", folder
    )
    shown = json.loads(out)
    assert shown["deadLetterHeaders"][HEADER_PREFIX + "truncated"] == "true"
    assert shown["payload"] == "not json"

    code, _, err = await stepstream(capsys, "dead-letters", "show", "9-999", "--data-dir", folder)
    assert code == 1 and json.loads(err)["error"] == "DeadLetterNotFound"


async def test_replay_republishes_the_original_once_unless_forced(
    broker: EmbeddedBroker, dead_lettered: tuple[str, Topics], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, topics = dead_lettered
    source = f"{topics.prefix}.commands.book-shipment"
    _, out, _ = await stepstream(capsys, "dead-letters", "list", "--json", "--data-dir", folder)
    letter = next(e["id"] for e in json.loads(out) if e["reason"] == "schema mismatch")

    code, out, _ = await stepstream(capsys, "dead-letters", "replay", letter, "--data-dir", folder)
    assert code == 0 and json.loads(out) == {"replayed": letter, "to": source}
    [replayed] = await read_topic(broker.bootstrap_servers, source)
    assert (replayed.key, json.loads(replayed.value)) == (b"exec-1", PAYLOAD)
    assert ("trace", b"t-1") in replayed.headers
    assert not any(name.startswith(HEADER_PREFIX) for name, _ in replayed.headers)

    code, _, err = await stepstream(capsys, "dead-letters", "replay", letter, "--data-dir", folder)
    assert code == 1 and json.loads(err)["error"] == "AlreadyReplayed"
    assert len(await read_topic(broker.bootstrap_servers, source)) == 1

    elsewhere = f"{topics.prefix}.elsewhere"
    await ensure_topics(broker.bootstrap_servers, [TopicSpec(elsewhere)])
    code, _, _ = await stepstream(
        capsys, "dead-letters", "replay", letter, "--to", elsewhere, "--force", "--data-dir", folder
    )
    assert code == 0
    assert len(await read_topic(broker.bootstrap_servers, elsewhere)) == 1
    _, out, _ = await stepstream(capsys, "dead-letters", "list", "--json", "--data-dir", folder)
    [entry] = [e for e in json.loads(out) if e["id"] == letter]
    assert [r["to"] for r in entry["replays"]] == [source, elsewhere]
