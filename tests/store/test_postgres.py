"""The PostgreSQL store meets the contract against the real server on 127.0.0.1.

Each test gets a schema of its own (the ``schema`` fixture), dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import asyncpg  # type: ignore[import-untyped]
import pytest

from stepstream.store import ExecutionStore, PostgresStore, StoreError

from .contract import DurableStoreContract


class PostgresBackend:
    def __init__(self, url: str, schema: str) -> None:
        self.url = url
        self.schema = schema

    def make(self, clock: Callable[[], datetime]) -> ExecutionStore:
        return PostgresStore(self.url, schema=self.schema, max_connections=4, clock=clock)


class TestPostgresStore(DurableStoreContract):
    @pytest.fixture
    def backend(self, postgres_url: str, schema: str) -> PostgresBackend:
        return PostgresBackend(postgres_url, schema)


async def test_a_schema_from_a_newer_store_is_refused(postgres_url: str, schema: str) -> None:
    async with PostgresStore(postgres_url, schema=schema):
        pass
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(f'UPDATE "{schema}".schema_version SET version = 99')
    finally:
        await conn.close()
    with pytest.raises(StoreError, match="store schema version 99"):
        await PostgresStore(postgres_url, schema=schema).open()


async def test_a_version_1_schema_gains_the_redrive_columns(postgres_url: str, schema: str) -> None:
    conn = await asyncpg.connect(postgres_url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        await conn.execute(f'CREATE TABLE "{schema}".schema_version (version integer NOT NULL)')
        await conn.execute(f'INSERT INTO "{schema}".schema_version VALUES (1)')
        await conn.execute(
            f'CREATE TABLE "{schema}".executions (execution_arn text PRIMARY KEY, '
            "stream_id text NOT NULL, state_machine_name text NOT NULL, "
            "state_machine_version integer NOT NULL, name text NOT NULL, status text NOT NULL, "
            "input text NOT NULL, output text, error text, cause text, "
            "start_date timestamptz NOT NULL, stop_date timestamptz, "
            "CONSTRAINT executions_machine_name_key UNIQUE (state_machine_name, name))"
        )
        await conn.execute(
            f"INSERT INTO \"{schema}\".executions VALUES ('arn:x', 's1', 'M', 1, 'x', 'FAILED', "
            "'{}', NULL, 'E', NULL, now(), now())"
        )
        async with PostgresStore(postgres_url, schema=schema) as store:
            old = await store.get_execution("arn:x")
            assert old is not None and (old.redrive_count, old.redrive_date) == (0, None)
            assert [r.name for r in await store.list_executions(redriven=False)] == ["x"]
        version = await conn.fetchval(f'SELECT max(version) FROM "{schema}".schema_version')
        assert version == 2
    finally:
        await conn.close()


async def test_the_tables_live_in_the_named_schema(postgres_url: str, schema: str) -> None:
    async with PostgresStore(postgres_url, schema=schema):
        pass
    conn = await asyncpg.connect(postgres_url)
    try:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1", schema
        )
    finally:
        await conn.close()
    assert {row[0] for row in tables} >= {"events", "streams", "outbox", "timers", "executions"}


@pytest.mark.parametrize("bad", ["", "1abc", "drop table;", "x" * 64, 'q"uote'])
def test_a_bad_schema_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="schema name"):
        PostgresStore("postgresql://127.0.0.1/test", schema=bad)
