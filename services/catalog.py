"""The services `stepstream up` runs beside the orchestrator, and what they need to find."""

from __future__ import annotations

from pathlib import Path


def stack_services(data_dir: Path) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """(name, python module) of each service process, and environment they all share."""
    return [], {}
