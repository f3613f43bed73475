"""The bindings of a state machine created through the AWS API, which has no field for them.

Each layer overrides the one before it, function by function and resource by resource:

1. every Lambda function the definition calls runs on the service of the same name
   (`book-shipment` on the book-shipment command topic);
2. on an update, the bindings of the version it replaces;
3. the configured bindings file (``STEPSTREAM_BINDINGS_FILE``): a JSON object of state
   machine name to bindings, with ``"*"`` for every machine;
4. the tag ``stepstream:bindings`` on CreateStateMachine, holding bindings as JSON.

What the definition no longer uses is dropped, so an update may remove a Task state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from stepstream.api.errors import ApiError
from stepstream.asl.machine import load_machine
from stepstream.asl.validation import InvalidDefinition
from stepstream.bindings import Bindings, InvalidBindings, dumps, load_bindings, trimmed, uses

BINDINGS_TAG = "stepstream:bindings"
BINDINGS_FILE_SETTING = "STEPSTREAM_BINDINGS_FILE"
EVERY_MACHINE = "*"


def read_bindings_file(path: Path | None) -> dict[str, Bindings]:
    """The configured bindings by state machine name; nothing when no file is configured."""
    if path is None:
        return {}
    try:
        document = json.loads(path.read_text())
        if not isinstance(document, dict):
            raise InvalidBindings("the file must hold a JSON object of name to bindings")
        return {name: load_bindings(json.dumps(b)) for name, b in document.items()}
    except (OSError, ValueError) as exc:
        raise InvalidBindings(f"bindings file {path}: {exc}") from None


def _merged(*layers: Bindings | None) -> Bindings:
    functions: dict[str, str] = {}
    resources = {}
    for layer in layers:
        if layer is not None:
            functions.update(layer.functions)
            resources.update(layer.resources)
    return Bindings(functions=functions, resources=resources)


def tagged_bindings(tags: list[dict[str, str]] | None) -> Bindings | None:
    for tag in tags or []:
        if tag.get("key") == BINDINGS_TAG:
            try:
                return load_bindings(tag.get("value", ""))
            except InvalidBindings as exc:
                raise ApiError("ValidationException", f"tag {BINDINGS_TAG}: {exc}") from None
    return None


def bindings_for(
    name: str,
    definition: str,
    *,
    configured: Mapping[str, Bindings],
    tagged: Bindings | None = None,
    previous: str | None = None,
) -> str:
    """The bindings (JSON text) of ``definition`` as state machine ``name``, layered as above.

    A definition that does not hold is left for the registration check to report.
    """
    try:
        machine = load_machine(definition)
    except InvalidDefinition:
        return dumps(Bindings())
    defaults = Bindings(functions={f: f for f in sorted(uses(machine).functions)})
    earlier = load_bindings(previous) if previous is not None else None
    layered = _merged(
        defaults, earlier, configured.get(EVERY_MACHINE), configured.get(name), tagged
    )
    return dumps(trimmed(layered, machine))
