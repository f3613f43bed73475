"""The one consumer loop: records handled side by side, offsets committed behind them.

A record is taken only when a slot is free (``concurrency``), handled with
``handle_record`` (a bad message is dead-lettered and counts as done), and its offset
is committed on a short interval, never past a record still being handled: a commit is
a broker round trip, and one per record costs the broker more than the records do. A
crash therefore redelivers at most an interval's worth of finished records, which
idempotent handlers answer again without redoing them.

With ``ordered_by_key`` the records of one key are chained (each waits for the one
before it) while different keys proceed side by side; messages keyed by execution are
then handled in order per execution.

An unexpected handler error stops the loop: no record is taken after it, the failed
record stays uncommitted (the consumer's next incarnation receives it again), and the
error is raised from ``wait`` or ``run``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from stepstream.messaging.bus import CommitFailed, Publisher, Record, Subscriber
from stepstream.messaging.dead_letter import Handler, handle_record
from stepstream.messaging.envelope import DEFAULT_MAX_BYTES
from stepstream.messaging.offsets import OffsetTracker, Ticket
from stepstream.observability import metrics

log = logging.getLogger(__name__)

DEFAULT_COMMIT_INTERVAL = 0.05


class Consumer:
    """Consumes one started ``subscriber``; ``run()``, or ``start``, ``wait`` and ``stop``."""

    def __init__(
        self,
        subscriber: Subscriber,
        handler: Handler,
        *,
        dead_letter: Publisher,
        dead_letter_topic: str,
        consumer_group: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        concurrency: int = 1,
        ordered_by_key: bool = False,
        commit_interval: float = DEFAULT_COMMIT_INTERVAL,
        name: str = "consumer",
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.subscriber = subscriber
        self.handler = handler
        self.dead_letter = dead_letter
        self.dead_letter_topic = dead_letter_topic
        self.consumer_group = consumer_group
        self.max_bytes = max_bytes
        self.ordered_by_key = ordered_by_key
        self.commit_interval = commit_interval
        self.name = name
        self._slots = asyncio.Semaphore(concurrency)
        self._tracker = OffsetTracker()
        self._tasks: set[asyncio.Task[None]] = set()
        self._chains: dict[bytes | None, asyncio.Task[None]] = {}
        self._to_commit: dict[tuple[str, int], Record] = {}
        self._commit_wanted = asyncio.Event()
        self._commit_lock = asyncio.Lock()
        self._pulling: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None
        self._handled = metrics.RECORDS_HANDLED.labels(consumer_group or name)

    @property
    def in_flight(self) -> int:
        """Records being handled (or waiting for their key's turn) right now."""
        return len(self._tasks)

    async def run(self) -> None:
        """Consume until the subscriber ends or a handler fails (raised), or cancelled.

        Records in flight are let finish, except when cancelled: then they are cancelled
        too. Either way what finished is committed before this returns.
        """
        # The first record is awaited in the caller's task, so that the loop waits on the
        # subscriber as soon as it runs (a subscriber stopped from then on ends it).
        records = aiter(self.subscriber)
        first = await self._next(records)
        if first is None:
            return
        self._start(records, first)
        try:
            await self.wait()
        except asyncio.CancelledError:
            await self.stop(grace_seconds=0.0)
            raise
        finally:
            await self.stop(grace_seconds=None)

    def start(self) -> None:
        """Begin taking records; the subscriber must be started."""
        self._start(aiter(self.subscriber), None)

    def _start(self, records: AsyncIterator[Record], first: Record | None) -> None:
        if self._pulling is not None:
            raise RuntimeError(f"{self.name} is already started")
        self._stopping.clear()
        self._failure = None
        self._pulling = asyncio.create_task(self._pull(records, first), name=f"{self.name} pull")
        self._pulling.add_done_callback(self._pull_done)
        self._committing = asyncio.create_task(
            self._commit_periodically(), name=f"{self.name} commits"
        )

    async def wait(self) -> None:
        """Return when the loop stops taking records; raise what made it stop, if it failed."""
        if self._pulling is None and not self._stopping.is_set():
            raise RuntimeError(f"{self.name} is not started")
        await self._stopping.wait()
        if self._failure is not None:
            raise self._failure

    async def stop(self, *, grace_seconds: float | None = 0.0) -> None:
        """Take no more records; cancel those still running after ``grace_seconds``.

        ``None`` lets every record in flight finish. A cancelled record is neither done
        nor committed: it will be delivered again. What finished is committed.
        """
        pulling, self._pulling = self._pulling, None
        if pulling is None:
            return
        self._stopping.set()
        pulling.cancel()
        await asyncio.wait({pulling})
        if self._tasks and (grace_seconds is None or grace_seconds > 0):
            await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))
        committing, self._committing = self._committing, None
        if committing is not None:
            committing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await committing
        await self._commit_now()

    async def _pull(self, records: AsyncIterator[Record], first: Record | None) -> None:
        if first is not None:
            self._take(first)  # its slot is taken
        while (record := await self._next(records)) is not None:
            self._take(record)

    async def _next(self, records: AsyncIterator[Record]) -> Record | None:
        """The next record, with a slot taken for it; None once the subscriber ended."""
        await self._slots.acquire()
        try:
            return await anext(records)
        except StopAsyncIteration:
            self._slots.release()
            return None
        except BaseException:
            self._slots.release()
            raise

    def _take(self, record: Record) -> None:
        ticket = self._tracker.track(record)
        previous = self._chains.get(record.key) if self.ordered_by_key else None
        task = asyncio.create_task(self._serve(ticket, previous), name=_where(record))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        if self.ordered_by_key:
            self._chains[record.key] = task
            task.add_done_callback(functools.partial(self._forget_chain, record.key))

    def _pull_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._fail(exc)
        else:
            self._stopping.set()  # the subscriber ended by itself

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._fail(exc)

    def _forget_chain(self, key: bytes | None, done: asyncio.Task[None]) -> None:
        if self._chains.get(key) is done:
            del self._chains[key]

    def _fail(self, exc: BaseException) -> None:
        log.error("%s failed", self.name, exc_info=exc)
        if self._failure is None:
            self._failure = exc
        self._stopping.set()
        # Take no more records; the failed one stays uncommitted for the next incarnation.
        if self._pulling is not None:
            self._pulling.cancel()

    async def _serve(self, ticket: Ticket, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.wait([previous])
            if self._failure is not None:
                return  # stopped behind a failure: left uncommitted, delivered again
        await handle_record(
            ticket.record,
            self.handler,
            dead_letters=self.dead_letter,
            dead_letter_topic=self.dead_letter_topic,
            max_bytes=self.max_bytes,
            consumer_group=self.consumer_group,
        )
        self._tracker.finish(ticket)
        self._handled.inc()
        committable = self._tracker.take_commit(ticket)
        if committable is not None:
            self._to_commit[(committable.topic, committable.partition)] = committable
            self._commit_wanted.set()

    async def _commit_periodically(self) -> None:
        # Asleep until something finished: an idle consumer does not wake to commit nothing.
        while True:
            await self._commit_wanted.wait()
            await asyncio.sleep(self.commit_interval)
            self._commit_wanted.clear()
            await self._commit_now()

    async def _commit_now(self) -> None:
        async with self._commit_lock:
            pending, self._to_commit = self._to_commit, {}
            if not pending:
                return
            try:
                await self.subscriber.commit_all(list(pending.values()))
                return
            except CommitFailed:
                pass  # some partition moved away: commit the others one by one
            for record in pending.values():
                try:
                    await self.subscriber.commit(record)
                except CommitFailed as exc:
                    # The partition's new owner receives the record again; nothing is lost.
                    log.info("%s: commit skipped after a rebalance: %s", self.name, exc)


async def consume(
    subscriber: Subscriber,
    handler: Handler,
    *,
    dead_letter: Publisher,
    dead_letter_topic: str,
    max_bytes: int = DEFAULT_MAX_BYTES,
    consumer_group: str | None = None,
    concurrency: int = 1,
) -> None:
    """Handle every record of ``subscriber`` until it stops (see ``Consumer``).

    One at a time by default; with ``concurrency`` above one, records of different keys
    are handled side by side and those of one key still in turn.
    """
    await Consumer(
        subscriber,
        handler,
        dead_letter=dead_letter,
        dead_letter_topic=dead_letter_topic,
        consumer_group=consumer_group,
        max_bytes=max_bytes,
        concurrency=concurrency,
        ordered_by_key=concurrency > 1,
        name=f"consumer {consumer_group}" if consumer_group else "consumer",
    ).run()


def _where(record: Record) -> str:
    return f"{record.topic}[{record.partition}]@{record.offset}"
