"""The library's one way to SQL: SQLite (embedded) and PostgreSQL (production).

``open_database(url, ...)`` gives a service its ``Database``; the execution store's
backends build on the same connections (``sqlite.connect``, ``postgres.create_pool``).
"""

from stepstream.sql.database import (
    Database,
    DatabaseBusy,
    Dialect,
    Row,
    Transaction,
    busy_as,
    database_from_url,
    open_database,
)

__all__ = [
    "Database",
    "DatabaseBusy",
    "Dialect",
    "Row",
    "Transaction",
    "busy_as",
    "database_from_url",
    "open_database",
]
