"""Checking a state machine before it is registered: its name, definition and bindings.

The API client checks before it asks, and the orchestrator checks again before it stores
(a request may be put straight on the bus), so both refuse the same things the same way.
"""

from __future__ import annotations

from stepstream import arns
from stepstream.asl.machine import load_machine
from stepstream.bindings import Bindings, InvalidBindings, load_bindings, problems


def check_state_machine(name: str, definition: str, bindings: str) -> Bindings:
    """The bindings, loaded, once the name, the definition and the bindings all hold.

    Raises ``arns.InvalidName``, ``InvalidDefinition`` or ``InvalidBindings``.
    """
    arns.check_name("state machine", name)
    machine = load_machine(definition)
    bound = load_bindings(bindings)
    found = problems(bound, machine)
    if found:
        raise InvalidBindings("; ".join(found))
    return bound
