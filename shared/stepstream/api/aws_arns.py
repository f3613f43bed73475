"""Reading the ARNs callers pass, refusing as Step Functions does (InvalidArn)."""

from __future__ import annotations

from stepstream import arns
from stepstream.api.errors import ApiError

_MACHINE_PREFIX = f"{arns.PARTITION_PREFIX}:stateMachine:"


def machine_ref(given: str) -> tuple[str, int | None]:
    """(name, version or None) of a state machine named by ARN, version ARN, or plain name.

    A plain name is the command line's shorthand; the AWS clients always send an ARN.
    """
    if not given.startswith("arn:"):
        return given, None
    if not given.startswith(_MACHINE_PREFIX):
        raise ApiError(
            "InvalidArn", f"Invalid Arn: 'Resource type not valid in this context: {given}'"
        )
    name, _, version = given[len(_MACHINE_PREFIX) :].partition(":")
    if not name or (version and not version.isdigit()):
        raise ApiError("InvalidArn", f"Invalid Arn: '{given}'")
    return name, int(version) if version else None


def execution_ref(given: str) -> str:
    """An execution ARN as given, once it has the shape of one."""
    try:
        arns.parse_execution_arn(given)
    except ValueError:
        raise ApiError("InvalidArn", f"Invalid Arn: '{given}'") from None
    return given
