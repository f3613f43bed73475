"""The PostgreSQL schema; every table lives in one schema named by the caller."""

from __future__ import annotations

from stepstream.sql.postgres import check_schema_name

SCHEMA_VERSION = 2

# Any fixed number works: it only keeps two processes opening the store at once from
# racing through CREATE TABLE IF NOT EXISTS, which is not safe under concurrency.
SCHEMA_LOCK_KEY = 0x5374_6570_5374_6F72


def ddl(schema: str) -> list[str]:
    """The statements that create the store in ``schema``, each safe to repeat."""
    s = f'"{check_schema_name(schema)}"'
    return [
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL)",
        f"""CREATE TABLE IF NOT EXISTS {s}.streams (
            stream_id text PRIMARY KEY,
            version integer NOT NULL)""",
        # json, not jsonb: jsonb reorders keys, and an execution's data should read
        # back exactly as it was written.
        f"""CREATE TABLE IF NOT EXISTS {s}.events (
            stream_id text NOT NULL,
            version integer NOT NULL,
            type text NOT NULL,
            data json NOT NULL,
            recorded_at timestamptz NOT NULL,
            PRIMARY KEY (stream_id, version))""",
        f"""CREATE TABLE IF NOT EXISTS {s}.outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            stream_id text NOT NULL,
            topic text NOT NULL,
            key bytea,
            value bytea NOT NULL,
            headers text NOT NULL,
            recorded_at timestamptz NOT NULL)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.timers (
            timer_id text PRIMARY KEY,
            stream_id text NOT NULL,
            due_at timestamptz NOT NULL,
            payload json NOT NULL)""",
        f"CREATE INDEX IF NOT EXISTS timers_by_due ON {s}.timers (due_at, timer_id)",
        f"""CREATE TABLE IF NOT EXISTS {s}.executions (
            execution_arn text PRIMARY KEY,
            stream_id text NOT NULL,
            state_machine_name text NOT NULL,
            state_machine_version integer NOT NULL,
            name text NOT NULL,
            status text NOT NULL,
            input text NOT NULL,
            output text,
            error text,
            cause text,
            start_date timestamptz NOT NULL,
            stop_date timestamptz,
            CONSTRAINT executions_machine_name_key UNIQUE (state_machine_name, name))""",
        # Version 2: redrives. Added columns, so that a version 1 store gains them too.
        f"ALTER TABLE {s}.executions "
        "ADD COLUMN IF NOT EXISTS redrive_count integer NOT NULL DEFAULT 0",
        f"ALTER TABLE {s}.executions ADD COLUMN IF NOT EXISTS redrive_date timestamptz",
        f"CREATE INDEX IF NOT EXISTS executions_by_start "
        f"ON {s}.executions (start_date DESC, execution_arn)",
        f"CREATE INDEX IF NOT EXISTS executions_by_status "
        f"ON {s}.executions (status, start_date DESC)",
        f"""CREATE TABLE IF NOT EXISTS {s}.state_machines (
            name text NOT NULL,
            version integer NOT NULL,
            definition text NOT NULL,
            bindings text NOT NULL,
            fingerprint text NOT NULL,
            created_at timestamptz NOT NULL,
            PRIMARY KEY (name, version))""",
        # A deleted state machine keeps its versions (executions still running need
        # them); only its name is gone, until it is created again.
        f"""CREATE TABLE IF NOT EXISTS {s}.deleted_state_machines (
            name text PRIMARY KEY,
            deleted_at timestamptz NOT NULL)""",
    ]
