"""What a running stack looks like, written to its data folder for every command to find."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DATA_DIR_VARIABLE = "STEPSTREAM_DATA_DIR"
DEFAULT_DATA_DIR = ".stepstream"
STACK_FILE = "stack.json"


class ProcessStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    pid: int | None = None
    started_at: datetime | None = None
    restarts: int = 0
    state: str = "starting"  # starting, running, restarting, stopped


class StackFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supervisor_pid: int
    bootstrap_servers: str
    store_url: str
    topic_prefix: str
    started_at: datetime
    processes: dict[str, ProcessStatus] = Field(default_factory=dict)
    urls: dict[str, str] = Field(default_factory=dict)
    # Process name -> the address of its /healthz and /metrics.
    health: dict[str, str] = Field(default_factory=dict)


def data_dir(given: str | None) -> Path:
    """The data folder: given on the command line, else $STEPSTREAM_DATA_DIR, else ./.stepstream."""
    return Path(given or os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR).resolve()


def write_stack(folder: Path, stack: StackFile) -> None:
    # Write then rename, so a reader never sees half a file.
    path = folder / STACK_FILE
    partial = path.with_suffix(".tmp")
    partial.write_text(stack.model_dump_json(indent=2))
    partial.replace(path)


class StackNotRunning(RuntimeError):
    """No stack runs on this data folder."""


class NoStackData(StackNotRunning):
    """The data folder, or the file a command reads in it, is not there.

    Commands that only read a stack refuse then, rather than create an empty folder or
    database and report it as a stack with nothing in it (a mistyped --data-dir).
    """


def existing_data_dir(given: str | None) -> Path:
    """The data folder as `data_dir` finds it; `NoStackData` if it does not exist."""
    folder = data_dir(given)
    if not folder.is_dir():
        raise NoStackData(
            f"no stepstream data folder at {folder}: check --data-dir or "
            f"${DATA_DIR_VARIABLE}, or start a stack with `stepstream up --data-dir {folder}`"
        )
    return folder


def require_file(folder: Path, path: Path, what: str) -> None:
    """`NoStackData` naming the folder, unless ``path`` (``what``, of the stack) exists."""
    if not path.is_file():
        raise NoStackData(
            f"no {what} in {folder} ({path.name} is missing): "
            f"is this a stepstream data folder? check --data-dir or ${DATA_DIR_VARIABLE}"
        )


def read_stack(folder: Path) -> StackFile:
    if not folder.is_dir():
        raise NoStackData(
            f"no stack runs on {folder}: there is no such folder (check --data-dir or "
            f"${DATA_DIR_VARIABLE})"
        )
    path = folder / STACK_FILE
    try:
        stack = StackFile.model_validate(json.loads(path.read_text()))
    except FileNotFoundError:
        raise StackNotRunning(
            f"no stack runs on {folder}: start one with `stepstream up --data-dir {folder}`"
        ) from None
    if not pid_alive(stack.supervisor_pid):
        raise StackNotRunning(f"the stack on {folder} has stopped (its supervisor is gone)")
    return stack


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
