"""`stepstream up`: the embedded broker, the orchestrator and the services, on one machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from apps.stack.processes import free_port
from apps.stack.supervisor import PRIVATE_UMASK, ProcessSpec, Supervisor
from stepstream.api.stack_file import STACK_FILE, ProcessStatus, StackFile, write_stack
from stepstream.bindings import InvalidBindings, dumps, load_bindings
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.broker.embedded import EmbeddedBroker
from stepstream.messaging import doorbell
from stepstream.messaging.topics import Topics
from stepstream.registration import check_state_machine
from stepstream.store.factory import open_reader

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StackOptions:
    data_dir: Path
    broker_port: int | None = None
    topic_prefix: str = "stepstream"
    store_url: str | None = None
    # Extra processes beyond the orchestrator: (name, python module) pairs.
    services: Sequence[tuple[str, str]] = field(default_factory=tuple)
    # Extra environment for every process (simulator URLs, ...): no secrets here.
    env: dict[str, str] = field(default_factory=dict)
    # Process name -> variables of this process's environment only that one gets (keys).
    secrets: Mapping[str, Sequence[str]] = field(default_factory=dict)
    # State machines registered at start: (name, definition file, bindings file).
    state_machines: Sequence[tuple[str, Path, Path]] = field(default_factory=tuple)
    # Addresses worth showing (simulators), kept in the stack file for commands.
    urls: dict[str, str] = field(default_factory=dict)
    # Processes' output: to the console (False) or to <data_dir>/logs/<name>.log (True).
    log_to_files: bool = False
    # Processes that never talk to the broker (the simulators): left running when the
    # broker is started again.
    broker_free: frozenset[str] = frozenset()

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{self.data_dir / 'orchestrator.db'}"


# Names of STEPSTREAM_* settings that hold secrets: passed only as `secrets` says.
_SECRET_SUFFIXES = ("_KEY", "_KEYS", "_SECRET", "_PASSWORD", "_TOKEN")


def _settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The user's STEPSTREAM_* settings that every process may read (no secrets)."""
    return {
        name: value
        for name, value in environ.items()
        if name.startswith("STEPSTREAM_") and not name.endswith(_SECRET_SUFFIXES)
    }


def process_specs(
    options: StackOptions, bootstrap: str, environ: Mapping[str, str] | None = None
) -> list[ProcessSpec]:
    environ = os.environ if environ is None else environ
    env = {
        # Every process rings the others beside the embedded broker (messaging.doorbell).
        "STEPSTREAM_KAFKA_DOORBELL_DIR": str(options.data_dir / doorbell.FOLDER),
        **_settings(environ),
        "STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "STEPSTREAM_STORE_URL": options.resolved_store_url,
        "STEPSTREAM_TOPIC_PREFIX": options.topic_prefix,
        "STEPSTREAM_DATA_DIR": str(options.data_dir),
        **options.env,
    }

    def spec(name: str, module: str) -> ProcessSpec:
        secrets = {k: environ[k] for k in options.secrets.get(name, ()) if k in environ}
        own = {} if name in options.broker_free else {"STEPSTREAM_HEALTH_PORT": str(free_port())}
        return ProcessSpec(name, [sys.executable, "-m", module], {**env, **secrets, **own})

    orchestrator = spec("orchestrator", "services.orchestrator")
    if options.state_machines:
        env_with_machines = {
            **orchestrator.env,
            "STEPSTREAM_STATE_MACHINES": machines_setting(options.state_machines),
        }
        orchestrator = ProcessSpec(orchestrator.name, orchestrator.argv, env_with_machines)
    return [orchestrator] + [spec(name, module) for name, module in options.services]


def health_urls(specs: Sequence[ProcessSpec]) -> dict[str, str]:
    """Where each process serves /healthz and /metrics (its port is fixed in its spec)."""
    return {
        spec.name: f"http://127.0.0.1:{spec.env['STEPSTREAM_HEALTH_PORT']}"
        for spec in specs
        if "STEPSTREAM_HEALTH_PORT" in spec.env
    }


def register(name: str, definition: str, bindings: str) -> None:
    """Check a state machine the stack registers, refusing a definition or bindings that do
    not hold: the orchestrator registers it when it starts (the only writer of the store).
    """
    try:
        check_state_machine(name, definition, bindings)
    except InvalidBindings as exc:
        raise InvalidBindings(f"state machine {name}: {exc}") from None


def machines_setting(machines: Sequence[tuple[str, Path, Path]]) -> str:
    """STEPSTREAM_STATE_MACHINES for the orchestrator: what it registers at start."""
    return json.dumps(
        [
            {
                "name": name,
                "definition": str(definition.resolve()),
                "bindings": str(bindings.resolve()),
            }
            for name, definition, bindings in machines
        ]
    )


async def wait_for_machines(
    url: str, machines: Sequence[tuple[str, Path, Path]], timeout: float = 60.0
) -> None:
    """Wait until the store shows each machine as its files say (the orchestrator is up)."""
    wanted = {
        name: (
            json.loads(definition.read_text()),
            json.loads(dumps(load_bindings(bindings.read_text()))),
        )
        for name, definition, bindings in machines
    }
    deadline = asyncio.get_running_loop().time() + timeout
    async with open_reader(url) as store:
        while wanted:
            for name, (definition, bindings) in list(wanted.items()):
                record = await store.get_state_machine(name)
                if record is not None and (
                    json.loads(record.definition),
                    json.loads(record.bindings),
                ) == (definition, bindings):
                    del wanted[name]
            if not wanted:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(
                    f"the orchestrator did not register {', '.join(sorted(wanted))}"
                    f" within {timeout:g} s; see its log"
                )
            await asyncio.sleep(0.05)


class Stack:
    """A running embedded stack; `start()` then `stop()`, or `async with`."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.broker = EmbeddedBroker(
            port=options.broker_port, log_path=options.data_dir / "broker.log"
        )
        self.supervisor: Supervisor | None = None
        self.broker_restarts = 0
        self._stack: StackFile | None = None
        self._broker_watch: asyncio.Task[None] | None = None
        self._umask: int | None = None

    async def start(self) -> None:
        # The folder and what this process writes in it (store, stack file, logs) are
        # private; the children get the same umask from the supervisor.
        self._umask = os.umask(PRIVATE_UMASK)
        self.options.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.options.data_dir.chmod(0o700)
        await self.broker.start()
        topics = Topics(self.options.topic_prefix)
        await ensure_topics(self.broker.bootstrap_servers, [TopicSpec(t) for t in topics.fixed()])
        # Checked here so that a bad file stops `stepstream up` at once, with its reason.
        for name, definition, bindings in self.options.state_machines:
            register(name, definition.read_text(), bindings.read_text())
        async with open_reader(self.options.resolved_store_url):
            pass  # creates the schema once, before the processes race to
        specs = process_specs(self.options, self.broker.bootstrap_servers)
        self._stack = StackFile(
            supervisor_pid=os.getpid(),
            bootstrap_servers=self.broker.bootstrap_servers,
            store_url=self.options.resolved_store_url,
            topic_prefix=self.options.topic_prefix,
            started_at=datetime.now(UTC),
            urls=dict(self.options.urls),
            health=health_urls(specs),
        )
        self.supervisor = Supervisor(
            specs,
            on_change=self._record,
            log_dir=self.options.data_dir / "logs" if self.options.log_to_files else None,
        )
        await self.supervisor.start()
        self._broker_watch = asyncio.create_task(self._keep_broker_up())
        try:
            await wait_for_machines(self.options.resolved_store_url, self.options.state_machines)
        except BaseException:
            await self.stop()
            raise

    def _record(self, statuses: dict[str, ProcessStatus]) -> None:
        if self._stack is None:
            return
        broker = ProcessStatus(
            name="broker",
            pid=self.broker.pid,
            restarts=self.broker_restarts,
            state="running" if self.broker.running else "restarting",
        )
        self._stack.processes = {"broker": broker, **statuses}
        write_stack(self.options.data_dir, self._stack)

    async def _keep_broker_up(self) -> None:
        """The broker is memory-only: one that died comes back empty, on the same port.

        The processes that use it are stopped first and started again once its topics
        exist: each then starts as after any crash, from its durable state (consumer
        groups from the beginning of the new logs, the orchestrator re-sending what is
        pending, the review desk reconciling its tickets), instead of meeting a broker
        that clients are recreating topics and rejoining groups on all at once.
        """
        while True:
            await asyncio.sleep(0.5)
            if not self.broker.running:
                await self._restart_broker()

    async def _restart_broker(self) -> None:
        log.warning("the embedded broker stopped; starting it again (empty)")
        self.broker_restarts += 1
        supervisor = self.supervisor
        clients = (
            []
            if supervisor is None
            else [name for name in supervisor.statuses() if name not in self.options.broker_free]
        )
        self._record(supervisor.statuses() if supervisor else {})
        if supervisor is not None:
            await supervisor.hold(clients)
        try:
            with contextlib.suppress(Exception):
                await self.broker.stop()
            await self.broker.start()
            topics = Topics(self.options.topic_prefix)
            await ensure_topics(
                self.broker.bootstrap_servers, [TopicSpec(t) for t in topics.fixed()]
            )
        finally:
            if supervisor is not None:
                supervisor.release(clients)
        self._record(supervisor.statuses() if supervisor else {})

    async def stop(self) -> None:
        if self._broker_watch is not None:
            self._broker_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._broker_watch
        if self.supervisor is not None:
            await self.supervisor.stop()
        await self.broker.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.options.data_dir / STACK_FILE).unlink()
        if self._umask is not None:
            os.umask(self._umask)
            self._umask = None

    async def __aenter__(self) -> Stack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
