"""Loading a state machine: validate everything first, then parse once."""

from __future__ import annotations

from typing import Any

from stepstream.asl.definition import StateMachineDef, parse_definition
from stepstream.asl.validation import check, load_definition


def load_machine(definition: str | dict[str, Any]) -> StateMachineDef:
    """Validate a definition (JSON text or an already-parsed document) and parse it.

    Raises InvalidDefinition listing every error at once.
    """
    if isinstance(definition, str):
        document = load_definition(definition)
    else:
        check(definition)
        document = definition
    return parse_definition(document)
