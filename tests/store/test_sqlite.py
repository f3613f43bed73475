"""The SQLite store meets the contract, in WAL mode, in a file of its own."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from stepstream.store import ExecutionStore, SQLiteStore, StoreError

from .builders import events
from .contract import DurableStoreContract


class SQLiteBackend:
    def __init__(self, path: Path) -> None:
        self.path = path

    def make(self, clock: Callable[[], datetime]) -> ExecutionStore:
        return SQLiteStore(self.path, clock=clock)


class TestSQLiteStore(DurableStoreContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> SQLiteBackend:
        return SQLiteBackend(tmp_path / "data" / "store.db")


async def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    async with SQLiteStore(path) as store:
        await store.append("s1", 0, events("A"))
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1


async def test_close_waits_for_queued_appends(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "store.db")
    await store.open()
    appends = [asyncio.create_task(store.append(f"s{i}", 0, events("A"))) for i in range(20)]
    await asyncio.sleep(0)  # every append has queued itself

    await store.close()

    assert await asyncio.gather(*appends) == [1] * 20
    async with SQLiteStore(tmp_path / "store.db") as reopened:
        assert [len(await reopened.read(f"s{i}")) for i in range(20)] == [1] * 20


async def test_a_file_from_schema_version_1_gains_the_redrive_columns(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE executions (execution_arn TEXT PRIMARY KEY, stream_id TEXT NOT NULL, "
            "state_machine_name TEXT NOT NULL, state_machine_version INTEGER NOT NULL, "
            "name TEXT NOT NULL, status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, "
            "error TEXT, cause TEXT, start_date INTEGER NOT NULL, stop_date INTEGER, "
            "UNIQUE (state_machine_name, name))"
        )
        conn.execute(
            "INSERT INTO executions VALUES ('arn:x', 's1', 'M', 1, 'x', 'FAILED', '{}', "
            "NULL, 'E', NULL, 0, 5)"
        )
        conn.execute("PRAGMA user_version=1")
    conn.close()
    async with SQLiteStore(path) as store:
        old = await store.get_execution("arn:x")
        assert old is not None and (old.status, old.redrive_count, old.redrive_date) == (
            "FAILED",
            0,
            None,
        )
        assert [r.name for r in await store.list_executions(redriven=False)] == ["x"]


async def test_a_file_from_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version=99")
    with pytest.raises(StoreError, match="schema version 99"):
        await SQLiteStore(path).open()


@pytest.mark.parametrize(
    ("path", "synchronous", "complaint"),
    [
        (":memory:", "NORMAL", "needs a file path"),
        ("x.db", "SOMETIMES", "synchronous must be one of"),
    ],
)
def test_bad_settings_are_refused(path: str, synchronous: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        SQLiteStore(path, synchronous=synchronous)
