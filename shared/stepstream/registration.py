"""Checking a state machine before it is registered: its name, definition and bindings.

The API client checks before it asks, and the orchestrator checks again before it stores
(a request may be put straight on the bus), so both refuse the same things the same way.
"""

from __future__ import annotations

import json

from stepstream import arns
from stepstream.asl.json_values import holds_text
from stepstream.asl.machine import load_machine
from stepstream.asl.validation import DefinitionError, InvalidDefinition
from stepstream.bindings import Bindings, InvalidBindings, load_bindings, problems


def check_state_machine(name: str, definition: str, bindings: str) -> Bindings:
    """The bindings, loaded, once the name, the definition and the bindings all hold.

    Raises ``arns.InvalidName``, ``InvalidDefinition`` or ``InvalidBindings``.
    """
    arns.check_name("state machine", name)
    machine = load_machine(definition)
    # PostgreSQL's text cannot hold NUL: a Fail state's cause with one could not be
    # stored as the execution's cause. The definition parsed, so it is JSON.
    if "\\u0000" in definition and holds_text(json.loads(definition), "\x00"):
        where = DefinitionError("$", None, "a string holds a NUL character (\\u0000)")
        raise InvalidDefinition([where])
    bound = load_bindings(bindings)
    found = problems(bound, machine)
    if found:
        raise InvalidBindings("; ".join(found))
    return bound
