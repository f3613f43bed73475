"""A doorbell beside the embedded broker: a producer rings, the topic's consumers fetch.

The embedded broker's fetch does not end when data arrives, so a consumer either asks
again every few milliseconds (each ask costing it and the broker 0.2 to 0.4 ms of CPU,
``benchmarks/broker_requests.py``) or lets records wait. Every process of an embedded
stack runs on one machine, so the processes tell each other instead: a consumer of a
topic listens on a local datagram socket and leaves its name in the topic's folder; a
producer, once the broker acknowledged what it wrote to a topic, sends one byte to each
listener of that topic. A consumer then waits for its bell (or, at the longest, a safety
interval) between fetches that came back empty, instead of holding fetches at the broker.

The bell is a hint only: a ring lost (a full socket, a producer that does not ring) costs
latency up to the safety interval, never a record. Sockets are in Linux's abstract
namespace, so they vanish with their process; a name left by a killed consumer is
removed by the first producer whose ring it refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition  # type: ignore[import-untyped]

# The doorbells' folder in an embedded stack's data folder.
FOLDER = "doorbells"

_PREFIX = b"\0stepstream-doorbell-"
# How long a producer trusts its listing of a topic's listeners before reading it again.
_LISTING_SECONDS = 0.5


def supported() -> bool:
    """Abstract socket names are Linux's."""
    return sys.platform.startswith("linux")


def _topic_folder(folder: Path, topic: str) -> Path:
    # Topic names may be long; socket and file names are kept short.
    return folder / hashlib.sha1(topic.encode()).hexdigest()[:16]


def _address(name: str) -> bytes:
    return _PREFIX + name.encode()


class Doorbell:
    """The bell a consumer of ``topics`` waits on; ``rung`` is set by every ring."""

    def __init__(self, folder: Path, topics: Iterable[str]) -> None:
        self.folder = folder
        self.topics = tuple(topics)
        self.name = uuid.uuid4().hex[:16]
        self.rung = asyncio.Event()
        self._socket: socket.socket | None = None
        self._markers: list[Path] = []

    def open(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.bind(_address(self.name))
        self._socket = sock
        asyncio.get_running_loop().add_reader(sock.fileno(), self._ringing)
        for topic in self.topics:
            where = _topic_folder(self.folder, topic)
            where.mkdir(parents=True, exist_ok=True)
            marker = where / self.name
            marker.touch()
            self._markers.append(marker)

    def close(self) -> None:
        for marker in self._markers:
            with contextlib.suppress(FileNotFoundError):
                marker.unlink()
        self._markers.clear()
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                asyncio.get_running_loop().remove_reader(sock.fileno())
            sock.close()

    def _ringing(self) -> None:
        sock = self._socket
        if sock is None:
            return
        # Several rings before this consumer looks mean one fetch: read them all.
        with contextlib.suppress(BlockingIOError, InterruptedError):
            while sock.recv(64):
                pass
        self.rung.set()

    async def wait(self, seconds: float) -> None:
        """Until the bell rings (or rang since ``rung`` was last cleared), or ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.rung.wait(), seconds)


class Ringer:
    """What a producer rings with, after the broker acknowledged its records."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._listeners: dict[str, tuple[float, list[str]]] = {}

    def ring(self, topics: Iterable[str]) -> None:
        for topic in set(topics):
            for name in self._listening(topic):
                try:
                    self._socket.sendto(b"!", _address(name))
                except (BlockingIOError, InterruptedError):
                    pass  # its queue is full: it has rings waiting already
                except (ConnectionRefusedError, FileNotFoundError):
                    self._gone(topic, name)

    def _listening(self, topic: str) -> list[str]:
        now = time.monotonic()
        seen = self._listeners.get(topic)
        if seen is not None and now - seen[0] < _LISTING_SECONDS:
            return seen[1]
        try:
            names = os.listdir(_topic_folder(self.folder, topic))
        except FileNotFoundError:
            names = []
        self._listeners[topic] = (now, names)
        return names

    def _gone(self, topic: str, name: str) -> None:
        # Its process ended (abstract names go with it): forget it, here and for all.
        with contextlib.suppress(FileNotFoundError):
            (_topic_folder(self.folder, topic) / name).unlink()
        seen = self._listeners.get(topic)
        if seen is not None and name in seen[1]:
            seen[1].remove(name)

    def close(self) -> None:
        self._socket.close()


# The broker reads a fetch's partitions one by one until the fetch's wait runs out; an
# answer that passed over some (see ``left_behind``) is followed at once by one with a
# longer wait, four times longer each time up to this, so that it reaches them however
# long the logs have grown.
REACH_WAIT_MS = 64
# The wait of the fetch that follows one that brought records after a quiet spell (one
# record rung for, say). That fetch only looks whether more came meanwhile, and is
# mostly empty; an empty fetch is held for its whole wait, and a record rung for during
# the hold waits for its end. While records keep coming, the follow-up keeps the
# consumer's wait: what arrives during the hold comes in the same answer (with 1 ms
# there, two fulfilment runs spent 12 and 17% more CPU per order). A fetch sent on a
# ring keeps the consumer's wait too: the broker answers it as soon as it read what is
# there, and the wait is its budget for reaching every partition.
FOLLOW_UP_WAIT_MS = 1


def wait_for_bell_between_fetches(
    consumer: object, bell: Doorbell, safety_seconds: float, *, linger_seconds: float = 0.0
) -> bool:
    """Make an aiokafka consumer wait for ``bell`` after each fetch that read nothing.

    With ``linger_seconds``, a fetch that brought records is followed by that pause
    before the next one, so that what arrives meanwhile comes in one read: for consumers
    off an order's path (the orders view), whose every fetch of a long log costs the
    broker more than the records it brings.

    False if this aiokafka has no fetcher to wrap. aiokafka offers no hook between its
    fetches; it calls its fetcher's ``_proc_fetch_request`` for each one and sends the
    next only after it returned, so the wait goes around that call. The fetch's wait at
    the broker is the fetcher's ``_fetch_max_wait_ms``, read as each request is built:
    the consumer's own wait, stretched after an answer that passed over partitions.

    The consumer's wait is best kept short, but not the shortest: the broker answers a
    fetch as soon as it read what is there, yet holds an empty one for the whole wait.
    Measured with the pipeline benchmark over logs of 3,000 records a partition, one
    order at a time: 59 to 65 ms an order with 5 ms, 82 with 1 ms stretched as here
    (at 1 ms the broker reaches about 3 of 8 partitions of such logs). So only the fetch
    after the first records since a fetch came back empty is asked with
    ``FOLLOW_UP_WAIT_MS``; if it passes partitions over, the next is stretched from the
    consumer's own wait.
    """
    fetcher = getattr(consumer, "_fetcher", None)
    fetch = getattr(fetcher, "_proc_fetch_request", None)
    if fetch is None:
        return False
    wait_ms: int = fetcher._fetch_max_wait_ms  # type: ignore[union-attr]
    after_quiet = True  # the last complete answer brought nothing

    async def fetch_then_wait(assignment: Any, node_id: object, request: Any) -> object:
        nonlocal after_quiet
        # A ring from now on may be for a record this fetch does not see: it must count.
        bell.rung.clear()
        has_new_data = await fetch(assignment, node_id, request)
        if left_behind(fetcher, assignment, request):
            # The broker ran out of time before it read every partition, and said more
            # is there: ask again at once, giving it longer.
            stretched = max(wait_ms, min(fetcher._fetch_max_wait_ms * 4, REACH_WAIT_MS))  # type: ignore[union-attr]
            fetcher._fetch_max_wait_ms = stretched  # type: ignore[union-attr]
            return has_new_data
        fetcher._fetch_max_wait_ms = wait_ms  # type: ignore[union-attr]
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            return has_new_data
        if has_new_data:
            if linger_seconds > 0:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(linger_seconds)
            elif after_quiet:
                fetcher._fetch_max_wait_ms = min(wait_ms, FOLLOW_UP_WAIT_MS)  # type: ignore[union-attr]
            after_quiet = False
            return has_new_data
        after_quiet = True
        # aiokafka's own fetch ends quietly when cancelled; so does this wait.
        with contextlib.suppress(asyncio.CancelledError):
            await bell.wait(safety_seconds)
        return has_new_data

    setattr(fetcher, "_proc_fetch_request", fetch_then_wait)  # noqa: B010
    return True


def left_behind(fetcher: Any, assignment: Any, request: Any) -> bool:
    """Whether a partition of ``request`` has records the answer did not bring.

    The embedded broker answers a fetch with the partitions it got to before its wait ran
    out, and reports every partition's log end; a partition whose end lies beyond the
    consumer's position with nothing buffered was passed over, not empty. Its records
    are acknowledged and rung for already: waiting for another ring could wait out the
    whole safety interval, again and again (measured: replies 6.7 s late once the logs
    held 3,000 records a partition).
    """
    buffered = getattr(fetcher, "_records", {})
    for topic, partitions in request.topics:
        for partition, *_ in partitions:
            tp = TopicPartition(topic, partition)
            state = assignment.state_value(tp)
            if state is None or not state.has_valid_position or tp in buffered:
                continue
            if state.highwater is not None and state.highwater > state.position:
                return True
    return False
