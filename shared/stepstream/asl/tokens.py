"""Task tokens: opaque to callers, yet they say which execution and task they answer."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TokenRef:
    execution_arn: str
    task_id: str


class InvalidToken(ValueError):
    """The task token is malformed (AWS: InvalidToken)."""


def encode_token(execution_arn: str, task_id: str, nonce: str) -> str:
    raw = json.dumps([execution_arn, task_id, nonce], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> TokenRef:
    try:
        padded = token + "=" * (-len(token) % 4)
        arn, task_id, _nonce = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, TypeError) as exc:
        raise InvalidToken(f"Invalid Token: '{token[:40]}' is not a task token") from exc
    if not isinstance(arn, str) or not isinstance(task_id, str):
        raise InvalidToken(f"Invalid Token: '{token[:40]}' is not a task token")
    return TokenRef(arn, task_id)
