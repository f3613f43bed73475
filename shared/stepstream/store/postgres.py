"""The production execution store on PostgreSQL, through an asyncpg pool.

Appends run at READ COMMITTED: the stream's row in ``streams`` is the lock that
serialises appenders of one execution, so separate orchestrator processes can share a
database and never both advance one execution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from stepstream.sql.postgres import (
    check_pool_size,
    check_schema_name,
    create_pool,
    schema_transaction,
)
from stepstream.store import postgres_sql as sql
from stepstream.store.base import StoreBase
from stepstream.store.errors import DuplicateExecutionName, StoreError, StoreNotOpen
from stepstream.store.postgres_schema import (
    SCHEMA_LOCK_KEY,
    SCHEMA_VERSION,
    ddl,
)
from stepstream.store.prepare import (
    PreparedAppend,
    PreparedStateMachine,
    aware_utc,
    check_limit,
    check_status,
    check_text,
    check_version,
    prepare_state_machine,
    utc_now,
)
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)

_NAME_KEY = "executions_machine_name_key"
_REGISTRY_ATTEMPTS = 5


_NOT_DELETED = "name NOT IN (SELECT name FROM deleted_state_machines)"


class PostgresStore(StoreBase):
    """An execution store in schema ``schema`` of the database at ``dsn``.

    ``dsn`` is anything asyncpg accepts (``postgresql://user@host:5432/db``).
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "stepstream",
        min_connections: int = 1,
        max_connections: int = 10,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        check_text(dsn, "dsn")
        self.schema = check_schema_name(schema)
        check_pool_size(min_connections, max_connections)
        self._dsn = dsn
        self._min = min_connections
        self._max = max_connections
        self._clock = clock
        self._pool: Any = None

    async def open(self) -> None:
        if self._pool is not None:
            return
        pool = await create_pool(
            self._dsn, schema=self.schema, min_size=self._min, max_size=self._max
        )
        try:
            async with pool.acquire() as conn:
                await self._create_schema(conn)
        except BaseException:
            await pool.close()
            raise
        self._pool = pool

    async def _create_schema(self, conn: Any) -> None:
        async with schema_transaction(conn, SCHEMA_LOCK_KEY):
            for statement in ddl(self.schema):
                await conn.execute(statement)
            found = await conn.fetchval("SELECT max(version) FROM schema_version")
            if found is None:
                await conn.execute("INSERT INTO schema_version VALUES ($1)", SCHEMA_VERSION)
            elif found < SCHEMA_VERSION:
                # The statements above brought an older schema up to date.
                await conn.execute("UPDATE schema_version SET version = $1", SCHEMA_VERSION)
            elif found > SCHEMA_VERSION:
                raise StoreError(
                    f"PostgreSQL schema {self.schema!r} has store schema version {found}; "
                    f"this stepstream knows up to {SCHEMA_VERSION}"
                )

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    def _checked_pool(self) -> Any:
        if self._pool is None:
            raise StoreNotOpen("PostgresStore")
        return self._pool

    def _now(self) -> datetime:
        return aware_utc(self._clock(), "the store's clock")

    async def _append_prepared(self, prepared: PreparedAppend) -> Appended:
        async with self._checked_pool().acquire() as conn:
            try:
                written = await self._append_on(conn, prepared, self._now())
            except asyncpg.UniqueViolationError as exc:
                record = prepared.execution
                if record is None or exc.constraint_name != _NAME_KEY:
                    raise
                # Another append took the name between our check and our write.
                machine, name = record.state_machine_name, record.name
                arn = await sql.existing_execution_named(conn, machine, name)
                raise DuplicateExecutionName(machine, name, arn or "?") from None
        return Appended(prepared.new_version, written)

    @staticmethod
    async def _append_on(conn: Any, p: PreparedAppend, now: datetime) -> tuple[PendingMessage, ...]:
        if not (p.timers_set or p.timers_cleared or p.execution):
            return await sql.write_core(conn, p, now)  # one statement is its own transaction
        async with conn.transaction():
            written = await sql.write_core(conn, p, now)
            await sql.write_timers(conn, p)
            if p.execution is not None:
                await sql.upsert_execution(conn, p.stream_id, p.execution)
        return written

    async def read(self, stream_id: str, after_version: int = 0) -> list[StoredEvent]:
        check_text(stream_id, "stream_id")
        check_version(after_version, "after_version")
        async with self._checked_pool().acquire() as conn:
            return await sql.read_events(conn, stream_id, after_version)

    async def pending_outbox(self, limit: int = 100) -> list[PendingMessage]:
        check_limit(limit)
        async with self._checked_pool().acquire() as conn:
            return await sql.pending_outbox(conn, limit)

    async def mark_published(self, ids: Sequence[int]) -> None:
        pool = self._checked_pool()
        if ids:
            await pool.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", list(ids))

    async def due_timers(self, now: datetime, limit: int = 100) -> list[Timer]:
        due_by = aware_utc(now, "now")
        check_limit(limit)
        async with self._checked_pool().acquire() as conn:
            return await sql.due_timers(conn, due_by, limit)

    async def get_execution(self, execution_arn: str) -> ExecutionRecord | None:
        check_text(execution_arn, "execution_arn")
        row = await self._checked_pool().fetchrow(
            f"SELECT {sql.EXECUTION_COLUMNS} FROM executions WHERE execution_arn = $1",
            execution_arn,
        )
        return None if row is None else sql.execution_from_row(row)

    async def list_executions(
        self,
        state_machine_name: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        *,
        after: ListPosition | None = None,
        redriven: bool | None = None,
    ) -> list[ExecutionRecord]:
        wanted = None if status is None else check_status(status, "status")
        check_limit(limit)
        async with self._checked_pool().acquire() as conn:
            return await sql.list_executions(
                conn, state_machine_name, wanted, limit, after, redriven
            )

    async def put_state_machine(self, name: str, definition: str, bindings: str) -> int:
        p = prepare_state_machine(name, definition, bindings)
        async with self._checked_pool().acquire() as conn:
            for _ in range(_REGISTRY_ATTEMPTS):
                try:
                    return await self._put_version(conn, p, self._now())
                except asyncpg.UniqueViolationError:
                    continue  # a concurrent registration took the number; look again
        raise StoreError(f"could not register state machine {name!r}: too much contention")

    @staticmethod
    async def _put_version(conn: Any, p: PreparedStateMachine, now: datetime) -> int:
        async with conn.transaction():
            latest = await conn.fetchrow(
                "SELECT version, fingerprint FROM state_machines WHERE name = $1 "
                "ORDER BY version DESC LIMIT 1",
                p.name,
            )
            await conn.execute("DELETE FROM deleted_state_machines WHERE name = $1", p.name)
            if latest is not None and latest["fingerprint"] == p.fingerprint:
                return int(latest["version"])
            version = 1 if latest is None else int(latest["version"]) + 1
            await conn.execute(
                "INSERT INTO state_machines VALUES ($1, $2, $3, $4, $5, $6)",
                p.name,
                version,
                p.definition,
                p.bindings,
                p.fingerprint,
                now,
            )
            return version

    async def get_state_machine(
        self, name: str, version: int | None = None
    ) -> StateMachineRecord | None:
        check_text(name, "state machine name")
        if version is not None:
            check_version(version, "version")
        row = await self._checked_pool().fetchrow(
            f"SELECT {sql.MACHINE_COLUMNS} FROM state_machines "
            "WHERE name = $1 AND ($2::integer IS NULL OR version = $2) "
            f"AND ($2::integer IS NOT NULL OR {_NOT_DELETED}) "
            "ORDER BY version DESC LIMIT 1",
            name,
            version,
        )
        return None if row is None else sql.machine_from_row(row)

    async def list_state_machines(self) -> list[StateMachineRecord]:
        rows = await self._checked_pool().fetch(
            f"SELECT DISTINCT ON (name) {sql.MACHINE_COLUMNS} FROM state_machines "
            f"WHERE {_NOT_DELETED} ORDER BY name, version DESC"
        )
        return [sql.machine_from_row(row) for row in rows]

    async def delete_state_machine(self, name: str) -> bool:
        check_text(name, "state machine name")
        status = await self._checked_pool().execute(
            "INSERT INTO deleted_state_machines "
            "SELECT DISTINCT name, $2::timestamptz FROM state_machines WHERE name = $1 "
            "ON CONFLICT (name) DO NOTHING",
            name,
            self._now(),
        )
        return bool(status.endswith(" 1"))
