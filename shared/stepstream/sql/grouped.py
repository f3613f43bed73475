"""Many callers' small units of work committed together: one transaction per round.

A service that keeps a table from a stream of messages spends more on beginning and
committing a transaction than on its one or two statements. ``GroupedTransactions``
queues each caller's unit of work, and a single writer runs every unit queued so far in
one transaction, in the order they came, then answers each caller. Units that arrive
while a round is being written go in the next round.

Each unit must stand on its own (what it reads, no unit before it in the round wrote),
as units of different keys do when a consumer chains the messages of one key. If a unit
raises, the round is rolled back and each of its units is run again in a transaction of
its own, so one bad unit fails only its own caller. A caller that is cancelled while
waiting may still have its unit committed: the units are meant for idempotent writers,
whose second application of the same message changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from stepstream.sql.database import Database, Transaction

T = TypeVar("T")

Unit = Callable[[Transaction], Awaitable[Any]]

# A round this long holds the database's write lock for a few milliseconds at most, and
# later callers wait for one round, not for everything queued.
DEFAULT_MAX_ROUND = 128


class GroupedTransactions:
    """Runs units of work on ``database``, as many per transaction as are waiting."""

    def __init__(self, database: Database, *, max_round: int = DEFAULT_MAX_ROUND) -> None:
        if max_round < 1:
            raise ValueError("max_round must be at least 1")
        self.database = database
        self.max_round = max_round
        self.shared_rounds = 0  # transactions committed that held more than one unit
        self._queue: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._round_now: list[tuple[Unit, asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def run(self, unit: Callable[[Transaction], Awaitable[T]]) -> T:
        """Run ``unit`` in a transaction shared with the units waiting beside it."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((unit, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="grouped transactions")
        return await future

    async def _write(self) -> None:
        try:
            while self._queue:
                self._round_now = self._queue[: self.max_round]
                del self._queue[: self.max_round]
                await self._round(self._round_now)
        finally:
            self._writer = None
            # Cancelled mid-round: the callers still waiting learn it rather than hang.
            for _, future in [*self._round_now, *self._queue]:
                if not future.done():
                    future.cancel()
            self._round_now, self._queue = [], []

    async def _round(self, batch: list[tuple[Unit, asyncio.Future[Any]]]) -> None:
        waiting = [(unit, future) for unit, future in batch if not future.cancelled()]
        if not waiting:
            return
        if len(waiting) > 1:
            try:
                async with self.database.transaction() as tx:
                    results = [await unit(tx) for unit, _ in waiting]
            except Exception:  # some unit failed: each then runs alone
                pass
            else:
                self.shared_rounds += 1
                for (_, future), result in zip(waiting, results, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        for unit, future in waiting:
            await self._alone(unit, future)

    async def _alone(self, unit: Unit, future: asyncio.Future[Any]) -> None:
        try:
            async with self.database.transaction() as tx:
                result = await unit(tx)
        except Exception as exc:  # handed to the caller that owns the unit
            if not future.done():
                future.set_exception(exc)
        else:
            if not future.done():
                future.set_result(result)
