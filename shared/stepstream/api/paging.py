"""The nextToken of a listing: where its last page ended, opaque to the caller."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from stepstream.api.errors import ApiError
from stepstream.store.records import ListPosition

_NOT_OURS = "Invalid Token: not a nextToken of list-executions"


def encode_next_token(position: ListPosition) -> str:
    document = {"startDate": position.start_date.isoformat(), "arn": position.execution_arn}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def decode_next_token(token: str) -> ListPosition:
    """The position a token names; InvalidToken, as Step Functions says, if it names none."""
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        start = datetime.fromisoformat(document["startDate"])
        arn = document["arn"]
    except (binascii.Error, UnicodeError, ValueError, TypeError, KeyError) as exc:
        raise ApiError("InvalidToken", f"{_NOT_OURS} ({exc})") from None
    if not isinstance(arn, str) or start.tzinfo is None:
        raise ApiError("InvalidToken", _NOT_OURS)
    return ListPosition(start, arn)
