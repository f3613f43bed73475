"""The envelope every message on the wire travels in.

An envelope is versioned JSON: a consumer that meets a ``schema_version`` it does not
know refuses the message instead of guessing. Version 1 has exactly the fields below, so a
misspelt field is an error, not a silently missing value; adding a field means a new
version.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticSerializationError, from_json, to_json

from stepstream.asl.json_values import NotPlainJson, finite_float

SCHEMA_VERSION: Literal[1] = 1
SUPPORTED_SCHEMA_VERSIONS = frozenset({SCHEMA_VERSION})
DEFAULT_MAX_BYTES = 1024 * 1024
# How deep a message's JSON may nest, its own object counted: what the compiled parser
# (pydantic-core's from_json) reads, 200 levels below the top. Deeper, Python's parser
# runs out of stack near 1,000 levels and the compiled encoder stops at 254: such a
# message is refused like any malformed one, never left to crash its consumer. Values
# from outside are held to less (stepstream.asl.limits.MAX_NESTING), so that the
# messages carrying them on stay within it.
MAX_NESTING = 201
_TOO_DEEP = "recursion limit exceeded"  # how from_json says a text nests past it
# Validation context saying the payload came from JSON text without a non-finite token.
_FROM_FINITE_JSON = "from_finite_json"


class MalformedMessage(Exception):
    """Bytes that are not a valid envelope; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessageTooLarge(ValueError):
    """An envelope whose encoding exceeds the size limit, refused before it is sent."""

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"message of {size} bytes exceeds the limit of {max_bytes} bytes")
        self.size = size
        self.max_bytes = max_bytes


def _new_message_id() -> str:
    # A random UUID (version 4), as uuid.uuid4() makes it, at a third of its cost: every
    # message sent takes one.
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _now() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """One message: who it concerns (execution, command), what it is (kind), and its payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    message_id: str = Field(default_factory=_new_message_id, min_length=1)
    kind: str = Field(min_length=1)
    execution_id: str = Field(min_length=1)
    command_id: str | None = None
    idempotency_key: str | None = None
    attempt: int = Field(default=1, ge=0)
    created_at: datetime = Field(default_factory=_now)
    payload: dict[str, Any] = Field(default_factory=dict)
    # W3C trace context (traceparent, tracestate) of the span that sent it, when traced.
    trace: dict[str, str] | None = None

    @field_validator("created_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("payload")
    @classmethod
    def _finite(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # JSON has no NaN or infinity; serializing one would silently turn it into null.
        if info.context and info.context.get(_FROM_FINITE_JSON):
            return value  # decoded from bytes that hold no such token: nothing to look for
        if not _all_finite(value):
            _check_finite(value, "payload")  # walked only now, to be sure and name the place
        return value

    def to_bytes(self) -> bytes:
        """The envelope as UTF-8 JSON."""
        return self.model_dump_json().encode()


def _all_finite(value: Any) -> bool:
    # Every envelope passes here, and walking a payload in Python costs several times
    # more than serializing it in Rust; a non-finite number shows up as a bare token.
    try:
        text = to_json(value, inf_nan_mode="constants")
    except PydanticSerializationError:
        return False  # let the walk decide, and serialization name the problem later
    return b"NaN" not in text and b"Infinity" not in text  # else perhaps inside a string


def _check_finite(value: Any, path: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}, which JSON cannot represent")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]")


def encode(envelope: Envelope, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Serialize ``envelope``; refuse it with ``MessageTooLarge`` past ``max_bytes``."""
    data = envelope.to_bytes()
    if len(data) > max_bytes:
        raise MessageTooLarge(len(data), max_bytes)
    return data


def decode(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """Parse and validate wire bytes, or raise ``MalformedMessage`` naming what is wrong."""
    if len(data) > max_bytes:
        raise MalformedMessage(
            f"message too large: {len(data)} bytes exceeds the limit of {max_bytes} bytes"
        )
    try:
        # Decoded here, not by json.loads, which would also take UTF-16 and UTF-32.
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    if _may_nest_too_deeply(data):
        # The compiled parser reads it, which refuses what nests too deeply as it goes
        # (and reads long texts in about half the time); the envelope's validation then
        # looks for numbers JSON cannot carry.
        document = _parse_compiled(text)
        finite = False
    else:
        document = _parse(text)
        # json.loads turns the tokens NaN, Infinity and -Infinity into floats (overflow
        # is refused as it parses): text without them holds no non-finite number, and
        # serializing the payload again to look is waste.
        finite = b"NaN" not in data and b"Infinity" not in data
    if not isinstance(document, dict):
        raise MalformedMessage(f"not a JSON object but {_json_type(document)}")
    if (b"\\ud" in data or b"\\uD" in data) and _lone_surrogate(document):
        raise MalformedMessage(
            "a string holds an unpaired UTF-16 surrogate escape, which UTF-8 cannot carry"
        )
    _check_schema_version(document)
    try:
        return Envelope.model_validate(document, context={_FROM_FINITE_JSON: finite})
    except ValidationError as exc:
        raise MalformedMessage(describe_validation_error(exc)) from None


def _lone_surrogate(document: Any) -> bool:
    """Whether a string in ``document`` holds a surrogate escape without its pair."""
    try:
        to_json(document)
    except PydanticSerializationError:
        return True
    return False


# Made once: json.loads with any option builds a decoder on every call.
_DECODER = json.JSONDecoder(parse_float=finite_float)


def _parse(text: str) -> Any:
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except NotPlainJson as exc:
        raise MalformedMessage(str(exc)) from None
    except ValueError:
        # Python reads integers of up to 4,300 digits and refuses longer ones.
        raise MalformedMessage("a number has more digits than can be read") from None


def _parse_compiled(text: str) -> Any:
    try:
        return from_json(text)
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith(_TOO_DEEP):
            raise MalformedMessage(_too_deep()) from None
        raise MalformedMessage(f"not JSON: {reason}") from None


def _may_nest_too_deeply(data: bytes) -> bool:
    # Nesting takes an opening bracket a level: with few of them, nothing is too deep.
    return data.count(b"[") + data.count(b"{") > MAX_NESTING


def nests_too_deeply(data: bytes) -> bool:
    """Whether the JSON text ``data`` nests past MAX_NESTING (False if it is not JSON)."""
    if not _may_nest_too_deeply(data):
        return False
    try:
        from_json(data)
    except ValueError as exc:
        return str(exc).startswith(_TOO_DEEP)
    return False


def _too_deep() -> str:
    return f"nested too deeply: more than {MAX_NESTING} levels of arrays and objects"


def _check_schema_version(document: dict[str, Any]) -> None:
    if "schema_version" not in document:
        raise MalformedMessage("field 'schema_version' missing")
    version = document["schema_version"]
    # bool is an int in Python, but true is not a version.
    if isinstance(version, bool) or version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_SCHEMA_VERSIONS))
        raise MalformedMessage(
            f"unknown schema_version {json.dumps(version)} (supported: {supported})"
        )


def describe_validation_error(error: ValidationError) -> str:
    """Every problem in a pydantic error, one clause each, naming the field."""
    clauses = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "(message)"
        if problem["type"] == "missing":
            clauses.append(f"field '{field}' missing")
        elif problem["type"] == "extra_forbidden":
            clauses.append(f"field '{field}' not allowed")
        else:
            clauses.append(f"field '{field}' invalid: {problem['msg']}")
    return "; ".join(clauses)


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"
