"""Stripe's idempotent requests: one answer per key, replayed for as long as it is kept.

A POST carrying ``Idempotency-Key`` stores its answer (status and body) once the
endpoint has begun to act, successes and card declines alike. The same key with the
same method, path and parameters gets that answer again, marked
``Idempotent-Replayed: true``; the same key with anything else is an
``idempotency_error``. Keys belong to the API key that sent them, so two callers with
different secret keys never share answers. Stripe may forget a key after 24 hours; the
stand-in forgets it exactly then.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from pydantic import BaseModel

from .errors import idempotency_mismatch, invalid
from .forms import Params

KEY_LIFETIME_SECONDS = 24 * 60 * 60
MAX_KEY_LENGTH = 255


class StoredAnswer(BaseModel):
    """An answer kept for replay under ``(scope, key)``."""

    scope: str
    key: str
    fingerprint: str
    status: int
    body: str
    request_id: str
    created: int


def scope_of(api_key: str) -> str:
    """The scope keys live in: a digest of the API key, so no secret is ever stored."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:32]


def fingerprint(method: str, path: str, params: Params) -> str:
    """What a retry must repeat exactly for its key to be honoured."""
    text = json.dumps({"method": method, "path": path, "params": params}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def check_key(key: str) -> None:
    if len(key) > MAX_KEY_LENGTH:
        raise invalid(
            f"Idempotency-Key is {len(key)} characters long; at most {MAX_KEY_LENGTH} are allowed.",
            param="Idempotency-Key",
        )


class AnswerBook:
    """Stored answers by scope and key, with Stripe's matching rules."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], StoredAnswer] = {}

    def find(self, scope: str, key: str, print_: str, now: int) -> StoredAnswer | None:
        """The answer to replay, None if the key is new; raises if the request differs."""
        stored = self._answers.get((scope, key))
        if stored is None:
            return None
        if now - stored.created >= KEY_LIFETIME_SECONDS:
            del self._answers[(scope, key)]
            return None
        if stored.fingerprint != print_:
            raise idempotency_mismatch(key)
        return stored

    def keep(self, answer: StoredAnswer) -> None:
        self._answers[(answer.scope, answer.key)] = answer

    def load(self, answers: Iterable[StoredAnswer]) -> None:
        for answer in answers:
            self.keep(answer)

    def clear(self) -> None:
        self._answers.clear()

    def __len__(self) -> int:
        return len(self._answers)
