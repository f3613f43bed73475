"""The services' SQL layer: one set of statements, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stepstream.sql.database import (
    Database,
    DatabaseBusy,
    busy_as,
    database_from_url,
    open_database,
)
from stepstream.sql.postgres import PostgresDatabase, numbered
from stepstream.sql.sqlite import SQLiteDatabase

DDL = ("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, n BIGINT NOT NULL)",)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    opened = await open_database(database_url, default_schema="unused", ddl=DDL)
    try:
        yield opened
    finally:
        await opened.close()


class Boom(Exception):
    pass


async def test_a_transaction_commits_and_counts_what_it_changed(database: Database) -> None:
    async with database.transaction() as tx:
        inserted = await tx.execute("INSERT INTO notes (id, n) VALUES (?, ?)", "a", 1)
        again = await tx.execute(
            "INSERT INTO notes (id, n) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", "a", 2
        )
        updated = await tx.execute("UPDATE notes SET n = n + ? WHERE id = ?", 10, "a")

    async with database.transaction() as tx:
        row = await tx.fetch_one("SELECT id, n FROM notes WHERE id = ?", "a")
    assert (inserted, again, updated) == (1, 0, 1)
    assert row == {"id": "a", "n": 11}


async def test_an_exception_rolls_the_whole_transaction_back(database: Database) -> None:
    with pytest.raises(Boom):
        async with database.transaction() as tx:
            await tx.execute("INSERT INTO notes (id, n) VALUES (?, ?)", "a", 1)
            raise Boom

    async with database.transaction() as tx:
        assert await tx.fetch_all("SELECT id FROM notes") == []


async def test_opening_twice_keeps_the_data(database_url: str, database: Database) -> None:
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO notes (id, n) VALUES (?, ?)", "a", 1)

    second = await open_database(database_url, default_schema="unused", ddl=DDL)
    try:
        async with second.transaction() as tx:
            assert await tx.fetch_all("SELECT id, n FROM notes") == [{"id": "a", "n": 1}]
    finally:
        await second.close()


async def test_transactions_of_one_database_do_not_interleave(database: Database) -> None:
    async def add(n: int) -> None:
        async with database.transaction() as tx:
            row = await tx.fetch_one("SELECT n FROM notes WHERE id = ?" + tx.for_update, "c")
            await asyncio.sleep(0)
            await tx.execute("UPDATE notes SET n = ? WHERE id = ?", (row or {"n": 0})["n"] + n, "c")

    async with database.transaction() as tx:
        await tx.execute("INSERT INTO notes (id, n) VALUES (?, ?)", "c", 0)
    await asyncio.gather(*(add(1) for _ in range(20)))

    async with database.transaction() as tx:
        assert await tx.fetch_one("SELECT n FROM notes WHERE id = ?", "c") == {"n": 20}


async def test_a_sqlite_file_locked_by_another_writer_is_database_busy(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    database = SQLiteDatabase(path, busy_timeout_ms=50)
    await database.open(DDL)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseBusy, match="is busy"):
            async with database.transaction():
                pass
    finally:
        other.close()
        await database.close()


def test_busy_as_renames_database_busy_for_the_service() -> None:
    class StoreBusy(Exception):
        pass

    with pytest.raises(StoreBusy, match="locked"), busy_as(StoreBusy):
        raise DatabaseBusy("locked")


def test_placeholders_are_numbered_for_postgresql() -> None:
    assert numbered("UPDATE t SET a = ?, b = ? WHERE c = ?") == (
        "UPDATE t SET a = $1, b = $2 WHERE c = $3"
    )


def test_urls_name_the_engine_file_and_schema() -> None:
    sqlite = database_from_url("sqlite:////tmp/x/s.db", default_schema="s")
    postgres = database_from_url("postgresql://u@127.0.0.1/db?schema=shop", default_schema="s")
    defaulted = database_from_url("postgres://u@127.0.0.1/db", default_schema="stock")

    assert isinstance(sqlite, SQLiteDatabase) and sqlite.path == Path("/tmp/x/s.db")
    assert isinstance(postgres, PostgresDatabase) and postgres.schema == "shop"
    assert isinstance(defaulted, PostgresDatabase) and defaulted.schema == "stock"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("receipts.db", "must look like scheme://"),
        ("mysql://127.0.0.1/db", "unknown database URL scheme 'mysql'"),
        ("sqlite://relative.db", "must be sqlite:///path"),
        ("postgresql://127.0.0.1/db?schema=drop table", "schema name"),
    ],
)
def test_a_bad_url_is_refused_saying_why(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        database_from_url(url, default_schema="s")
