"""Runs processes, restarts the ones that die, and stops them all in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stepstream.api.stack_file import ProcessStatus

log = logging.getLogger(__name__)

# What every process gets of the supervisor's own environment; anything else it needs
# comes in its spec, so a secret reaches only the process that uses it.
BASE_VARIABLES = (
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    # Which event loop every process runs on (stepstream.event_loop).
    "STEPSTREAM_EVENT_LOOP",
)
# Files the processes create (databases, logs) are for the stack's user alone: they hold
# task tokens, addresses and payment references.
PRIVATE_UMASK = 0o077


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Running:
    spec: ProcessSpec
    status: ProcessStatus
    process: asyncio.subprocess.Process | None = None
    watcher: asyncio.Task[None] | None = None
    forwarder: asyncio.Task[None] | None = None
    # Cleared while the process is held stopped (see `Supervisor.hold`).
    free: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    """Keeps every process up: one that exits is started again, with a growing pause."""

    def __init__(
        self,
        specs: Sequence[ProcessSpec],
        *,
        on_change: Callable[[dict[str, ProcessStatus]], None] = lambda _: None,
        max_backoff: float = 10.0,
        log_dir: Path | None = None,
    ) -> None:
        self._running = {spec.name: _Running(spec, ProcessStatus(name=spec.name)) for spec in specs}
        self._on_change = on_change
        self._max_backoff = max_backoff
        self._stopping = False
        # None: every line to the console, prefixed with the process's name.
        self._log_dir = log_dir

    def statuses(self) -> dict[str, ProcessStatus]:
        return {name: run.status.model_copy() for name, run in self._running.items()}

    async def start(self) -> None:
        for run in self._running.values():
            run.free.set()
            await self._launch(run)
            run.watcher = asyncio.create_task(self._watch(run))

    async def _launch(self, run: _Running) -> None:
        base = {name: os.environ[name] for name in BASE_VARIABLES if name in os.environ}
        env = {**base, **run.spec.env, "PYTHONUNBUFFERED": "1"}
        run.process = await asyncio.create_subprocess_exec(
            *run.spec.argv,
            env=env,
            umask=PRIVATE_UMASK,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        run.status.pid = run.process.pid
        run.status.started_at = datetime.now(UTC)
        run.status.state = "running"
        self._on_change(self.statuses())
        run.forwarder = asyncio.create_task(self._forward_output(run.spec.name, run.process))

    async def _forward_output(self, name: str, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        if self._log_dir is None:
            async for line in process.stdout:
                sys.stdout.write(f"{name:>16} | {line.decode(errors='replace')}")
                sys.stdout.flush()
            return
        self._log_dir.mkdir(parents=True, exist_ok=True)
        with (self._log_dir / f"{name}.log").open("ab") as log_file:
            async for line in process.stdout:
                log_file.write(line)
                log_file.flush()

    async def _watch(self, run: _Running) -> None:
        backoff = 0.5
        while not self._stopping:
            assert run.process is not None
            code = await run.process.wait()
            if self._stopping:
                break
            if run.free.is_set():  # it died by itself: start it again after a pause
                run.status.state = "restarting"
                run.status.restarts += 1
                self._on_change(self.statuses())
                log.warning("%s exited with %s; restarting in %.1fs", run.spec.name, code, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
            # Held (stopped on purpose, or a hold came during the pause): wait for release.
            await run.free.wait()
            if not self._stopping:
                await self._launch(run)

    async def hold(self, names: Collection[str], grace: float = 1.0) -> None:
        """Stop these processes and keep them stopped until `release`.

        Used while the embedded broker is started again: processes that talk to it must
        not meet it half-made (clients recreating topics, groups joining), and every
        process starts from its durable state anyway.
        """
        runs = [self._running[name] for name in names]
        for run in runs:
            run.free.clear()
            if run.process is not None and run.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    run.process.send_signal(signal.SIGTERM)
        # Together, and with a short grace: a process whose broker is gone cannot finish
        # anything by stopping slowly, and every one of them survives a kill.
        await asyncio.gather(*(self._end(run, grace) for run in runs))
        self._on_change(self.statuses())

    def release(self, names: Collection[str]) -> None:
        """Start again the processes `hold` stopped."""
        for name in names:
            self._running[name].free.set()

    async def _end(self, run: _Running, grace: float) -> None:
        if run.process is None:
            return
        try:
            await asyncio.wait_for(run.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                run.process.kill()
            await run.process.wait()

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every process (last started first), SIGKILL what is left after `grace`."""
        self._stopping = True
        runs = list(self._running.values())[::-1]
        for run in runs:
            if run.process is not None and run.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    run.process.send_signal(signal.SIGTERM)
        for run in runs:
            run.free.set()  # a held process's watcher must see the stop, not wait on
            await self._end(run, grace)
            run.status.state = "stopped"
            if run.watcher is not None:
                run.watcher.cancel()
        self._on_change(self.statuses())
