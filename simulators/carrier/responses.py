"""JSON answers shared by the carrier API and its admin endpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from .models import error_body


def json_error(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """An error answer in the API's one error shape."""
    return web.json_response(
        error_body(code, message, **extra), status=status, headers=dict(headers or {})
    )


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Each validation problem as ``{"field": "a.b", "message": ...}``."""
    return [
        {"field": ".".join(str(part) for part in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False)
    ]


def validation_error(status: int, code: str, exc: ValidationError) -> web.Response:
    """An error answer naming every field that failed validation."""
    details = field_errors(exc)
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return json_error(status, code, message, details=details)
