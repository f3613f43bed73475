"""Errors a service answers with: named data, each class saying whether it is transient.

A handler's exception becomes a failed task whose error name is the exception's class
name, which the definition's Retry and Catch match on; the message becomes the cause.
"""

from __future__ import annotations

from typing import ClassVar


class ServiceError(Exception):
    """A failure a service reports as a named task error.

    ``retriable`` says whether trying the same command again may succeed; the
    orchestrator decides by the definition's Retry, so the flag is information only.
    ``retry_after_seconds`` is how long the far end asked to be left alone (its
    Retry-After): the worker sends it with the failure, and the retry the definition
    allows then waits at least that long (up to the retrier's MaxDelaySeconds).
    """

    retriable: ClassVar[bool] = False

    def __init__(self, message: str = "", *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class InvalidOrder(ServiceError):
    """The command's input is not an order this service can act on."""
