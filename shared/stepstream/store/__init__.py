"""The orchestrator's persistence: event store, outbox, durable timers, executions index.

``open_store(url)`` gives the orchestrator a ready store; every other process opens it with
``open_reader(url)``. ``InMemoryStore`` is the fake for unit tests.
"""

from stepstream.store.base import (
    ExecutionReader,
    ExecutionStore,
    ExecutionWriter,
    Outbox,
    StateMachineRegistry,
)
from stepstream.store.errors import (
    ConcurrencyError,
    DuplicateExecutionName,
    OwnedByAnotherStream,
    StoreError,
    StoreNotOpen,
)
from stepstream.store.factory import open_reader, open_store, store_from_url
from stepstream.store.memory import InMemoryStore
from stepstream.store.postgres import PostgresStore
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    NewEvent,
    OutboxMessage,
    PendingMessage,
    StateMachineRecord,
    StoredEvent,
    Timer,
)
from stepstream.store.sqlite import SQLiteStore

__all__ = [
    "Appended",
    "ConcurrencyError",
    "DuplicateExecutionName",
    "ExecutionReader",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionStore",
    "ExecutionWriter",
    "InMemoryStore",
    "ListPosition",
    "NewEvent",
    "Outbox",
    "OutboxMessage",
    "OwnedByAnotherStream",
    "PendingMessage",
    "PostgresStore",
    "SQLiteStore",
    "StateMachineRecord",
    "StateMachineRegistry",
    "StoreError",
    "StoreNotOpen",
    "StoredEvent",
    "Timer",
    "open_reader",
    "open_store",
    "store_from_url",
]
