"""Settings every service process shares, read from ``STEPSTREAM_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from stepstream.worker import WorkerSettings


class ServiceSettings(WorkerSettings):
    """A worker's settings (broker, topic prefix, concurrency) and the data folder.

    ``STEPSTREAM_DATA_DIR`` is where a service keeps its SQLite file unless it is given a
    database URL of its own.
    """

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_", frozen=True, extra="ignore")

    data_dir: Path = Path(".stepstream")

    def database_url(self, given: str | None, file_name: str) -> str:
        """``given``, or a SQLite file called ``file_name`` in the data folder."""
        if given:
            return given
        return f"sqlite:///{(self.data_dir / file_name).resolve()}"
