"""Paging of what the store hands back whole: histories and the state machine list.

A token says where the previous page ended and what it was a page of, so one given to
another listing (or another execution's history) is refused as AWS refuses it.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from stepstream.api.errors import ApiError

DEFAULT_PAGE = 100


def encode_token(listing: str, offset: int) -> str:
    document = {"of": listing, "offset": offset}
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()


def decode_token(listing: str, token: str) -> int:
    """The offset a token of ``listing`` names; InvalidToken when it is not one."""
    try:
        document = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = document["offset"]
        of = document["of"]
    except (binascii.Error, UnicodeError, ValueError, TypeError, KeyError):
        raise ApiError("InvalidToken", f"Invalid Token: '{token}'") from None
    if of != listing or not isinstance(offset, int) or offset < 0:
        raise ApiError("InvalidToken", f"Invalid Token: '{token}' is not a token of this listing")
    return offset


def page(
    items: list[Any], key: str, listing: str, max_results: int | None, token: str | None
) -> dict[str, Any]:
    """One page of ``items`` under ``key``, with nextToken when more follow.

    A maxResults of 0 (or none) means the default page, as in the AWS API.
    """
    size = max_results or DEFAULT_PAGE
    start = decode_token(listing, token) if token else 0
    result: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        result["nextToken"] = encode_token(listing, start + size)
    return result
