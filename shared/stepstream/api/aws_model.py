"""The Step Functions API as botocore's published service model describes it.

Requests are checked against the model's input shapes and answers are written in its
output shapes, so the wire format is the model's, not a hand-kept copy: an operation
is data plus one handler. Refusals read as AWS writes them ("1 validation error
detected: Value ... at 'name' failed to satisfy constraint: ...").
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from stepstream.api.errors import ApiError

SERVICE = "stepfunctions"
TARGET_PREFIX = "AWSStepFunctions"
# Fewer than AWS checks would be a different service; more would be noise in a message.
_MAX_REPORTED = 10


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


def operation_model(operation: str) -> OperationModel:
    """The operation's model; UnknownOperationException when the service has none."""
    if operation not in service_model().operation_names:
        raise ApiError("UnknownOperationException", f"Operation {operation} is not supported.")
    return service_model().operation_model(operation)


def check_input(operation: str, params: Any) -> None:
    """Refuse ``params`` with ValidationException unless they fit the operation's input shape."""
    shape = operation_model(operation).input_shape
    if not isinstance(params, dict):
        raise ApiError(
            "SerializationException", "Start of structure or map found where not expected."
        )
    problems: list[str] = []
    assert shape is not None
    _check_structure(params, shape, "", problems)
    if problems:
        count = len(problems)
        listed = "; ".join(problems[:_MAX_REPORTED])
        raise ApiError(
            "ValidationException",
            f"{count} validation error{'s' if count > 1 else ''} detected: {listed}",
        )


def _describe(value: Any) -> str:
    return "null" if value is None else f"'{value}'"


def _check_structure(
    value: dict[str, Any], shape: StructureShape, where: str, problems: list[str]
) -> None:
    for name in shape.required_members:
        if value.get(name) is None:
            problems.append(
                f"Value null at '{where}{name}' failed to satisfy constraint: "
                "Member must not be null"
            )
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _check(value[name], member, f"{where}{name}", problems)


_PYTHON_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "long": int,
    "boolean": bool,
    "list": list,
    "structure": dict,
    "map": dict,
    "timestamp": (int, float),
}


def _check(value: Any, shape: Shape, where: str, problems: list[str]) -> None:
    def refuse(constraint: str) -> None:
        problems.append(
            f"Value {_describe(value)} at '{where}' failed to satisfy constraint: {constraint}"
        )

    kind = shape.type_name
    meta = shape.metadata
    expected = _PYTHON_TYPES.get(kind)
    is_bool = isinstance(value, bool)
    if expected is not None and (
        not isinstance(value, expected) or (is_bool and kind in ("integer", "long"))
    ):
        refuse(f"Member must be of type {kind}")
        return
    if kind == "string":
        enum = meta.get("enum")
        if enum and value not in enum:
            refuse(f"Member must satisfy enum value set: [{', '.join(enum)}]")
        if "min" in meta and len(value) < meta["min"]:
            refuse(f"Member must have length greater than or equal to {meta['min']}")
        if "max" in meta and len(value) > meta["max"]:
            refuse(f"Member must have length less than or equal to {meta['max']}")
    elif kind in ("integer", "long"):
        if "min" in meta and value < meta["min"]:
            refuse(f"Member must have value greater than or equal to {meta['min']}")
        if "max" in meta and value > meta["max"]:
            refuse(f"Member must have value less than or equal to {meta['max']}")
    elif kind == "list":
        if "max" in meta and len(value) > meta["max"]:
            refuse(f"Member must have length less than or equal to {meta['max']}")
        for index, item in enumerate(value):
            _check(item, shape.member, f"{where}.{index + 1}.member", problems)  # type: ignore[attr-defined]
    elif kind == "structure":
        assert isinstance(shape, StructureShape)
        _check_structure(value, shape, f"{where}.", problems)


def encode_output(operation: str, result: dict[str, Any]) -> dict[str, Any]:
    """``result`` in the operation's output shape: its members only, timestamps as epoch seconds."""
    shape = operation_model(operation).output_shape
    if shape is None:
        return {}
    encoded: dict[str, Any] = _encode(result, shape)
    return encoded


def _encode(value: Any, shape: Shape) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        members = shape.members  # type: ignore[attr-defined]
        return {
            name: _encode(item, members[name])
            for name, item in value.items()
            if name in members and item is not None
        }
    if kind == "list" and isinstance(value, list):
        return [_encode(item, shape.member) for item in value]  # type: ignore[attr-defined]
    if kind == "timestamp":
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.timestamp() if isinstance(moment, datetime) else moment
    return value
