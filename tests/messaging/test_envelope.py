"""The wire envelope: what is accepted, and how what is refused is explained."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from pydantic_core import from_json

from stepstream.messaging.envelope import (
    DEFAULT_MAX_BYTES,
    MAX_NESTING,
    Envelope,
    MalformedMessage,
    MessageTooLarge,
    decode,
    encode,
)


def wire(**overrides: Any) -> bytes:
    document: dict[str, Any] = {
        "schema_version": 1,
        "message_id": "m-1",
        "kind": "task.command",
        "execution_id": "exec-1",
        "command_id": "c-1",
        "idempotency_key": "exec-1/c-1",
        "attempt": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "payload": {"a": 1},
    }
    document.update(overrides)
    return json.dumps({k: v for k, v in document.items() if v is not ...}).encode()


def reason(data: bytes, **kwargs: Any) -> str:
    with pytest.raises(MalformedMessage) as caught:
        decode(data, **kwargs)
    return caught.value.reason


def test_an_envelope_survives_the_round_trip() -> None:
    envelope = Envelope(
        kind="task.succeeded",
        execution_id="exec-1",
        command_id="c-1",
        idempotency_key="k",
        attempt=3,
        payload={"output": {"nested": [1, 2.5, None, "x"]}},
    )

    assert decode(encode(envelope)) == envelope


def test_defaults_give_a_fresh_id_and_the_current_utc_time() -> None:
    before = datetime.now(UTC)
    one = Envelope(kind="start", execution_id="e")
    other = Envelope(kind="start", execution_id="e")

    assert one.message_id != other.message_id
    assert uuid.UUID(one.message_id).version == 4
    assert str(uuid.UUID(one.message_id)) == one.message_id
    assert one.created_at.tzinfo == UTC and one.created_at >= before
    assert (one.schema_version, one.attempt, one.payload) == (1, 1, {})


def test_created_at_is_kept_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    envelope = Envelope(
        kind="k", execution_id="e", created_at=datetime(2026, 1, 1, 1, tzinfo=paris)
    )

    assert envelope.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert envelope.created_at.utcoffset() == timedelta(0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone-aware"):
        Envelope(kind="k", execution_id="e", created_at=datetime(2026, 1, 1))


def test_decoding_a_valid_message() -> None:
    envelope = decode(wire())

    assert envelope.command_id == "c-1"
    assert envelope.created_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert envelope.payload == {"a": 1}


def test_bytes_that_are_not_json_are_refused() -> None:
    assert reason(b"{not json").startswith("not JSON: ")


def test_bytes_that_are_not_utf8_are_refused() -> None:
    assert reason(b"\xff\xfe{}").startswith("not UTF-8")


@pytest.mark.parametrize(
    ("data", "kind"),
    [(b"[1, 2]", "an array"), (b'"text"', "a string"), (b"42", "a number"), (b"null", "null")],
)
def test_json_that_is_not_an_object_is_refused(data: bytes, kind: str) -> None:
    assert reason(data) == f"not a JSON object but {kind}"


def test_a_missing_field_is_named() -> None:
    assert reason(wire(execution_id=...)) == "field 'execution_id' missing"


def test_an_invalid_field_is_named() -> None:
    assert reason(wire(attempt="twice")).startswith("field 'attempt' invalid: ")


def test_every_problem_is_named_at_once() -> None:
    text = reason(wire(kind=..., payload=[1]))

    assert "field 'kind' missing" in text
    assert "field 'payload' invalid" in text


def test_an_unknown_field_is_refused() -> None:
    assert reason(wire(commandId="c-1")) == "field 'commandId' not allowed"


def test_a_naive_time_on_the_wire_is_refused() -> None:
    assert reason(wire(created_at="2026-01-01T00:00:00")).startswith("field 'created_at' invalid")


def test_a_missing_schema_version_is_named() -> None:
    assert reason(wire(schema_version=...)) == "field 'schema_version' missing"


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_an_unknown_schema_version_is_refused(version: object) -> None:
    text = reason(wire(schema_version=version))

    assert text == f"unknown schema_version {json.dumps(version)} (supported: 1)"


def test_a_message_over_the_limit_is_refused_before_parsing() -> None:
    data = wire(payload={"blob": "x" * 2000})

    assert reason(data, max_bytes=1000) == (
        f"message too large: {len(data)} bytes exceeds the limit of 1000 bytes"
    )
    assert decode(data, max_bytes=len(data)).payload == {"blob": "x" * 2000}


def test_the_default_limit_is_one_mebibyte() -> None:
    big = wire(payload={"blob": "x" * DEFAULT_MAX_BYTES})

    assert DEFAULT_MAX_BYTES == 1024 * 1024
    assert reason(big).startswith("message too large")


def test_encoding_refuses_what_consumers_would_refuse() -> None:
    envelope = Envelope(kind="k", execution_id="e", payload={"blob": "x" * 500})

    with pytest.raises(MessageTooLarge) as caught:
        encode(envelope, max_bytes=100)

    assert caught.value.max_bytes == 100 and caught.value.size == len(envelope.to_bytes())


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_numbers_json_cannot_carry_are_refused(number: float) -> None:
    with pytest.raises(ValidationError, match=r"payload\.order\.total\[1\] is"):
        Envelope(kind="k", execution_id="e", payload={"order": {"total": [1.0, number]}})


def test_text_that_spells_nan_or_infinity_is_only_text() -> None:
    payload = {"note": "NaN", "Infinity": ["-Infinity", 1.5]}

    assert Envelope(kind="k", execution_id="e", payload=payload).payload == payload


def nested_payload(levels: int) -> bytes:
    """A message whose payload holds arrays ``levels`` deep (the message two more)."""
    return wire(payload=...)[:-1] + b', "payload": {"x": ' + b"[" * levels + b"]" * levels + b"}}"


def test_a_message_nested_to_the_limit_is_taken() -> None:
    envelope = decode(nested_payload(MAX_NESTING - 2))

    assert envelope.to_bytes()  # and it can be written again


@pytest.mark.parametrize("levels", [MAX_NESTING - 1, 995, 5_000, 100_000])
def test_a_message_nested_past_the_limit_is_refused_whatever_its_depth(levels: int) -> None:
    # Past about 1,000 levels Python's own decoder runs out of stack: the message is
    # refused the same way, not raised out of the consumer.
    assert reason(nested_payload(levels)) == (
        f"nested too deeply: more than {MAX_NESTING} levels of arrays and objects"
    )


def test_the_limit_is_what_the_compiled_parser_reads() -> None:
    from_json("[" * MAX_NESTING + "]" * MAX_NESTING)
    with pytest.raises(ValueError, match="recursion limit exceeded"):
        from_json("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))


def test_many_brackets_side_by_side_are_not_depth() -> None:
    payload = {"items": [{"sku": f"S{i}", "tags": [i]} for i in range(400)]}

    assert decode(wire(payload=payload)).payload == payload


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        (b"1e999", "the number 1e999 is too large for a 64-bit float"),
        (b"-1e999", "the number -1e999 is too large for a 64-bit float"),
        (b"1" + b"0" * 400 + b".5", "is too large for a 64-bit float"),
        (b"1" + b"0" * 5_000, "a number has more digits than can be read"),
        (b'"\\ud800"', "a string holds an unpaired UTF-16 surrogate escape"),
    ],
)
def test_numbers_and_strings_no_reader_can_take_on_are_refused(literal: bytes, why: str) -> None:
    # Each once left the consumer a value it could not write again, or raised out of it.
    assert why in reason(wire(payload=...)[:-1] + b', "payload": {"x": ' + literal + b"}}")


@pytest.mark.parametrize(
    ("literal", "value"),
    [(b"1.5e300", 1.5e300), (b'"\\ud83d\\ude00"', "\U0001f600"), (b"1" + b"0" * 300, 10**300)],
)
def test_large_numbers_and_paired_surrogates_are_taken(literal: bytes, value: object) -> None:
    data = wire(payload=...)[:-1] + b', "payload": {"x": ' + literal + b"}}"

    assert decode(data).payload == {"x": value}


def test_a_nan_on_the_wire_is_refused() -> None:
    assert "cannot represent" in reason(wire(payload=...)[:-1] + b', "payload": {"x": NaN}}')


def test_an_infinity_deep_in_a_payload_on_the_wire_is_refused() -> None:
    data = wire(payload=...)[:-1] + b', "payload": {"x": [1, {"y": -Infinity}]}}'
    assert "payload.x[1].y is -inf" in reason(data)


def test_a_wire_payload_whose_text_spells_nan_is_taken_as_it_is() -> None:
    payload = {"note": "NaN", "Infinity": ["-Infinity", 1.5]}
    assert decode(wire(payload=payload)).payload == payload


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(
    payload=st.dictionaries(st.text(), json_values, max_size=5),
    execution_id=st.text(min_size=1),
    attempt=st.integers(min_value=0, max_value=10**6),
)
def test_any_json_payload_survives_the_round_trip(
    payload: dict[str, Any], execution_id: str, attempt: int
) -> None:
    envelope = Envelope(kind="k", execution_id=execution_id, attempt=attempt, payload=payload)

    assert decode(encode(envelope)) == envelope
