"""The orchestrator's persistence: event store, outbox, durable timers, executions index.

``open_store(url)`` gives a ready store; ``InMemoryStore`` is the fake for unit tests.
"""

from stepstream.store.base import ExecutionStore
from stepstream.store.errors import (
    AlreadyProcessed,
    ConcurrencyError,
    DuplicateExecutionName,
    OwnedByAnotherStream,
    StoreError,
    StoreNotOpen,
)
from stepstream.store.factory import open_store, store_from_url
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
    "AlreadyProcessed",
    "Appended",
    "ConcurrencyError",
    "DuplicateExecutionName",
    "ExecutionRecord",
    "ExecutionStatus",
    "ExecutionStore",
    "InMemoryStore",
    "ListPosition",
    "NewEvent",
    "OutboxMessage",
    "OwnedByAnotherStream",
    "PendingMessage",
    "PostgresStore",
    "SQLiteStore",
    "StateMachineRecord",
    "StoreError",
    "StoreNotOpen",
    "StoredEvent",
    "Timer",
    "open_store",
    "store_from_url",
]
