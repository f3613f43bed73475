"""Amazon Resource Names for what stepstream runs, in the shape Step Functions uses."""

from __future__ import annotations

import re

PARTITION_PREFIX = "arn:aws:states:local:000000000000"

# Step Functions allows these characters in state machine and execution names.
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,80}$")


class InvalidName(ValueError):
    """A state machine or execution name Step Functions would refuse (InvalidName)."""


def check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidName(
            f"Invalid {kind} name {name!r}: use 1 to 80 letters, digits, '-', '_' or '.'"
        )
    return name


def state_machine_arn(name: str) -> str:
    return f"{PARTITION_PREFIX}:stateMachine:{name}"


def execution_arn(state_machine: str, name: str) -> str:
    return f"{PARTITION_PREFIX}:execution:{state_machine}:{name}"


def parse_execution_arn(arn: str) -> tuple[str, str]:
    """(state machine name, execution name); ValueError when `arn` is not an execution ARN."""
    prefix = f"{PARTITION_PREFIX}:execution:"
    if not arn.startswith(prefix) or arn.count(":") != prefix.count(":") + 1:
        raise ValueError(f"Invalid Arn: {arn!r} is not an execution ARN")
    machine, _, name = arn[len(prefix) :].partition(":")
    return machine, name


def state_machine_name(arn_or_name: str) -> str:
    """A state machine's name, given its name or its ARN."""
    prefix = f"{PARTITION_PREFIX}:stateMachine:"
    return arn_or_name[len(prefix) :] if arn_or_name.startswith(prefix) else arn_or_name
