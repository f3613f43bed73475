"""What an execution store raises besides ``ValueError`` for malformed input.

Every error here means the append or registration wrote nothing.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's own errors."""


class StoreNotOpen(StoreError):
    """The store was used before ``open()`` or after ``close()``."""

    def __init__(self, store: str) -> None:
        super().__init__(f"{store} is not open; call open() first")


class ConcurrencyError(StoreError):
    """The stream was not at the version the appender expected."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, not the expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DuplicateExecutionName(StoreError):
    """Another execution of the same state machine already has this name."""

    def __init__(self, state_machine_name: str, name: str, existing_arn: str) -> None:
        super().__init__(
            f"state machine {state_machine_name!r} already has an execution named "
            f"{name!r}: {existing_arn}"
        )
        self.state_machine_name = state_machine_name
        self.name = name
        self.existing_arn = existing_arn


class OwnedByAnotherStream(StoreError, ValueError):
    """A timer id or execution arn already belongs to another stream.

    Each is written only by appends to its own stream, so that the stream's version
    check guards it; reusing one from another stream is a caller's bug.
    """

    def __init__(self, what: str, owner: str, stream_id: str) -> None:
        super().__init__(f"{what} belongs to stream {owner!r}, not {stream_id!r}")
        self.owner = owner
        self.stream_id = stream_id
