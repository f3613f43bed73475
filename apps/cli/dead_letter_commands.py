"""`stepstream dead-letters`: what was set aside, and putting it back.

Dead letters are read from the dead-letter topic from its beginning each time. A dead
letter's id is where it sits there, ``<partition>-<offset>``. A replay republishes the
original record and notes the id on ``<dead-letter topic>.replayed``, so the same dead
letter is not replayed twice by accident.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from stepstream.api.connect import stack_address
from stepstream.api.stack_file import StackNotRunning
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Record
from stepstream.messaging.dead_letter import DEAD_LETTERED_AT, HEADER_PREFIX, DeadLetter
from stepstream.messaging.kafka import KafkaPublisher, KafkaSettings
from stepstream.messaging.topic_reader import read_topic
from stepstream.messaging.topics import Topics

DATA_DIR_HELP = "the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)"
REPLAYED_FROM = "stepstream.replayed-from"


@dataclass(frozen=True)
class Entry:
    id: str
    letter: DeadLetter
    dlq_headers: dict[str, str]
    replays: list[dict[str, Any]]

    @property
    def when(self) -> str:
        return self.dlq_headers.get(DEAD_LETTERED_AT, "-")

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.letter.reason,
            "sourceTopic": self.letter.source_topic,
            "sourcePartition": self.letter.source_partition,
            "sourceOffset": self.letter.source_offset,
            "consumerGroup": self.letter.consumer_group,
            "deadLetteredAt": self.dlq_headers.get(DEAD_LETTERED_AT),
            "size": len(self.letter.value),
            "replays": self.replays,
        }

    def details(self) -> dict[str, Any]:
        key = self.letter.key
        return {
            **self.summary(),
            "key": key.decode(errors="replace") if key is not None else None,
            "deadLetterHeaders": self.dlq_headers,
            "headers": {n: v.decode(errors="replace") for n, v in self.letter.headers},
            "payload": _payload(self.letter.value),
        }


def register(commands: Any) -> None:
    dead = commands.add_parser(
        "dead-letters",
        help="messages set aside as unprocessable: list them, look at one, replay it",
    )
    actions = dead.add_subparsers(dest="dead_letters_action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="every dead letter, oldest first")
    listing.add_argument("--json", action="store_true", help="a JSON array")
    show = actions.add_parser("show", help="one dead letter: why, whence, headers and payload")
    show.add_argument("id", metavar="ID", help="PARTITION-OFFSET, as list shows it")
    show.add_argument("--json", action="store_true", help="one JSON object")
    replay = actions.add_parser("replay", help="publish a dead letter's record again")
    replay.add_argument("id", metavar="ID", help="PARTITION-OFFSET, as list shows it")
    replay.add_argument("--to", metavar="TOPIC", help="another topic (default: its source)")
    replay.add_argument("--force", action="store_true", help="replay one replayed before")
    for parser, handler in ((listing, _list), (show, _show), (replay, _replay)):
        parser.add_argument("--data-dir", help=DATA_DIR_HELP)
        parser.set_defaults(handler=handler)


class Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": str(self)}


def _list(args: argparse.Namespace) -> int:
    entries = _run(lambda: _entries(args.data_dir))
    if entries is None:
        return 1
    if args.json:
        print(json.dumps([entry.summary() for entry in entries], indent=2))
        return 0
    if not entries:
        print("no dead letters")
        return 0
    table = Table("ID", "WHEN", "REASON", "SOURCE", "GROUP", "SIZE", "REPLAYED")
    for e in entries:
        source = f"{e.letter.source_topic}[{e.letter.source_partition}]@{e.letter.source_offset}"
        replayed = str(len(e.replays)) if e.replays else "-"
        table.add_row(
            e.id,
            e.when,
            e.letter.reason,
            source,
            e.letter.consumer_group or "-",
            str(len(e.letter.value)),
            replayed,
        )
    Console(width=200).print(table)
    return 0


def _show(args: argparse.Namespace) -> int:
    async def find() -> Entry:
        return _one(await _entries(args.data_dir), args.id)

    entry = _run(find)
    if entry is None:
        return 1
    details = entry.details()
    if args.json:
        print(json.dumps(details, indent=2))
        return 0
    payload = details.pop("payload")
    table = Table(show_header=False, box=None)
    for name, value in details.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        table.add_row(name, "-" if value is None else shown)
    console = Console(width=200)
    console.print(table)
    console.print("payload:")
    console.print(payload if isinstance(payload, str) else json.dumps(payload, indent=2))
    return 0


def _replay(args: argparse.Namespace) -> int:
    async def replay() -> dict[str, Any]:
        _store, bootstrap, prefix = stack_address(args.data_dir)
        entry = _one(await _entries(args.data_dir), args.id)
        if entry.replays and not args.force:
            raise Refused(
                "AlreadyReplayed",
                f"dead letter {entry.id} was replayed already ({entry.replays[-1]['at']} to "
                f"{entry.replays[-1]['to']}); use --force to replay it again",
            )
        target = args.to or entry.letter.source_topic
        log = _replay_log(Topics(prefix))
        await ensure_topics(bootstrap, [TopicSpec(log, partitions=1)])
        note = {"id": entry.id, "to": target, "at": datetime.now(UTC).isoformat()}
        headers = [*entry.letter.headers, (REPLAYED_FROM, entry.id.encode())]
        async with KafkaPublisher(settings=KafkaSettings(bootstrap_servers=bootstrap)) as out:
            await out.publish_raw(target, entry.letter.key, entry.letter.value, headers)
            await out.publish_raw(log, entry.id.encode(), json.dumps(note).encode(), [])
        return {"replayed": entry.id, "to": target}

    result = _run(replay)
    if result is None:
        return 1
    print(json.dumps(result, indent=2))
    return 0


def _replay_log(topics: Topics) -> str:
    return f"{topics.dead_letter()}.replayed"


async def _entries(folder: str | None) -> list[Entry]:
    _store, bootstrap, prefix = stack_address(folder)
    topics = Topics(prefix)
    replays: dict[str, list[dict[str, Any]]] = {}
    for record in await read_topic(bootstrap, _replay_log(topics)):
        note = json.loads(record.value)
        replays.setdefault(note["id"], []).append(note)
    entries = []
    for record in await read_topic(bootstrap, topics.dead_letter()):
        try:
            letter = DeadLetter.from_record(record)
        except ValueError:
            continue  # not written by a dead-lettering consumer; nothing to replay
        entry_id = _id(record)
        entries.append(Entry(entry_id, letter, _dlq_headers(record), replays.get(entry_id, [])))
    return sorted(entries, key=lambda e: (e.when, e.id))


def _one(entries: list[Entry], wanted: str) -> Entry:
    for entry in entries:
        if entry.id == wanted:
            return entry
    raise Refused("DeadLetterNotFound", f"no dead letter {wanted} (ids are PARTITION-OFFSET)")


def _id(record: Record) -> str:
    return f"{record.partition}-{record.offset}"


def _dlq_headers(record: Record) -> dict[str, str]:
    # Every stepstream.dlq.* header, known or not, so newer ones show without a change here.
    return {n: v.decode(errors="replace") for n, v in record.headers if n.startswith(HEADER_PREFIX)}


def _payload(value: bytes) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value.decode(errors="replace")


def _run(call: Any) -> Any:
    try:
        return asyncio.run(call())
    except Refused as exc:
        print(json.dumps(exc.as_json()), file=sys.stderr)
    except StackNotRunning as exc:
        print(str(exc), file=sys.stderr)
    return None
