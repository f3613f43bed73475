"""The databases some commands read straight from a stack's data folder.

Opening a SQLite file creates it, and a folder with it; a command that only reads must
check first, or a mistyped --data-dir turns into an empty stack that "has no orders".
"""

from __future__ import annotations

from pathlib import Path

from stepstream.api.stack_file import (
    NoStackData,
    StackNotRunning,
    existing_data_dir,
    read_stack,
    require_file,
)

SQLITE_SCHEME = "sqlite://"


def require_database(folder: str | None, url: str, what: str) -> None:
    """`NoStackData` unless the data folder exists and, for SQLite, ``url``'s file does.

    A stack running on the folder is enough: its own process creates the file, and may
    just not have yet.
    """
    where = existing_data_dir(folder)
    if not url.startswith(SQLITE_SCHEME):
        return
    # sqlite:///relative or sqlite:////absolute, as stepstream.sql.database reads it.
    path = Path(url.removeprefix(SQLITE_SCHEME)[1:])
    try:
        require_file(where, path, what)
    except NoStackData as missing:
        try:
            read_stack(where)
        except StackNotRunning:
            raise missing from None
