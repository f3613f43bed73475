"""Units of work from many callers, committed together, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager

import pytest

from stepstream.sql.database import Database, Dialect, Transaction, open_database
from stepstream.sql.grouped import GroupedTransactions

DDL = ("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",)


class CountingDatabase:
    """The real database, counting the transactions begun on it."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.transactions = 0

    @property
    def dialect(self) -> Dialect:
        return self.inner.dialect

    async def open(self, ddl: Sequence[str]) -> None:
        await self.inner.open(ddl)

    async def close(self) -> None:
        await self.inner.close()

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        self.transactions += 1
        return self.inner.transaction()


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[CountingDatabase]:
    opened = await open_database(database_url, default_schema="unused", ddl=DDL)
    try:
        yield CountingDatabase(opened)
    finally:
        await opened.close()


def insert(note: str, n: int = 1) -> Callable[[Transaction], Awaitable[str]]:
    async def unit(tx: Transaction) -> str:
        await tx.execute("INSERT INTO notes (id, n) VALUES (?, ?)", note, n)
        return note

    return unit


async def stored(database: CountingDatabase) -> list[str]:
    async with database.inner.transaction() as tx:
        return [row["id"] for row in await tx.fetch_all("SELECT id FROM notes ORDER BY id")]


async def test_units_waiting_together_are_committed_in_one_transaction(
    database: CountingDatabase,
) -> None:
    writes = GroupedTransactions(database)

    results = await asyncio.gather(*(writes.run(insert(f"n{i}")) for i in range(10)))

    assert results == [f"n{i}" for i in range(10)]
    assert database.transactions == 1
    assert await stored(database) == sorted(f"n{i}" for i in range(10))


async def test_units_run_in_the_order_they_came(database: CountingDatabase) -> None:
    writes = GroupedTransactions(database)

    async def double(tx: Transaction) -> int:
        await tx.execute("UPDATE notes SET n = n * 2 WHERE id = ?", "x")
        row = await tx.fetch_one("SELECT n FROM notes WHERE id = ?", "x")
        assert row is not None
        return int(row["n"])

    _, doubled = await asyncio.gather(writes.run(insert("x", 3)), writes.run(double))

    assert doubled == 6


async def test_a_failing_unit_fails_only_its_own_caller(database: CountingDatabase) -> None:
    writes = GroupedTransactions(database)

    outcomes = await asyncio.gather(
        writes.run(insert("a")),
        writes.run(insert("a")),  # the same key again: refused by the table
        writes.run(insert("b")),
        return_exceptions=True,
    )

    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], Exception)
    assert await stored(database) == ["a", "b"]
    # The shared round was rolled back, then each unit ran on its own.
    assert database.transactions == 1 + 3


async def test_a_round_holds_at_most_max_round_units(database: CountingDatabase) -> None:
    writes = GroupedTransactions(database, max_round=2)

    await asyncio.gather(*(writes.run(insert(f"n{i}")) for i in range(5)))

    assert database.transactions == 3
    assert writes.shared_rounds == 2


async def test_a_caller_alone_gets_a_transaction_of_its_own(database: CountingDatabase) -> None:
    writes = GroupedTransactions(database)

    await writes.run(insert("first"))
    await writes.run(insert("second"))

    assert database.transactions == 2
    assert writes.shared_rounds == 0
    assert await stored(database) == ["first", "second"]


def test_a_round_must_hold_a_unit() -> None:
    with pytest.raises(ValueError, match="max_round"):
        GroupedTransactions(CountingDatabase.__new__(CountingDatabase), max_round=0)
