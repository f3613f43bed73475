"""What keeps the desk safe to put in front of operators: sign-in throttling, CSRF
tokens, and the filter that keeps task tokens out of every response."""

from __future__ import annotations

import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# A task token is the URL-safe base64 of a JSON array starting with the execution ARN,
# so every one begins with the encoding of '["arn:'.
_TASK_TOKEN = re.compile(r"WyJhcm46[A-Za-z0-9_\-]{16,}")
TOKEN_HIDDEN = "(task token hidden)"
_TOKEN_KEYS = frozenset({"tasktoken", "task_token"})


def hide_task_tokens(text: str) -> str:
    """``text`` with every task token replaced: the last guard on every response body."""
    return _TASK_TOKEN.sub(TOKEN_HIDDEN, text)


def without_tokens(value: Any) -> Any:
    """A JSON value with every ``taskToken`` field (at any depth) hidden."""
    if isinstance(value, dict):
        return {
            k: TOKEN_HIDDEN if k.lower() in _TOKEN_KEYS else without_tokens(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_tokens(v) for v in value]
    return value


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


@dataclass
class SignInLimiter:
    """At most ``attempts`` failed sign-ins per key (a user name, an address) per window."""

    attempts: int
    window_seconds: float
    clock: Callable[[], float]
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def wait_seconds(self, *keys: str) -> float:
        """How long until ``keys`` may try again (0: now)."""
        now = self.clock()
        longest = 0.0
        for key in keys:
            failures = self._recent(key, now)
            if len(failures) >= self.attempts:
                longest = max(longest, failures[0] + self.window_seconds - now)
        return longest

    def failed(self, *keys: str) -> None:
        now = self.clock()
        for key in keys:
            self._recent(key, now).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_seconds:
            failures.popleft()
        return failures
