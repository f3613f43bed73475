"""The aiohttp application: Stripe's ``/v1`` API plus a small admin API for tests.

Admin endpoints (JSON, no auth; the server listens on 127.0.0.1 only):

- ``GET /_admin/health`` and ``GET /healthz`` (for a container health check):
  ``{"status": "ok"}``, whatever faults are configured.
- ``GET /_admin/faults``: the fault configuration and what has been injected so far.
- ``POST /_admin/faults``: replace the configuration with the posted JSON
  (``rate_limit_rate``, ``error_rate``, ``latency_ms``, ``seed``, ``rate_limit_next``,
  ``error_next``; absent fields take their defaults, so ``{}`` clears all faults).
- ``DELETE /_admin/faults``: clear all faults.
- ``GET /_admin/ledger``: captured and refunded per PaymentIntent, with totals.
- ``POST /_admin/reset``: forget every object and idempotency key.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from .api import ApiRequest, StripeApi
from .faults import FaultConfig
from .ledger import build_ledger

API_KEY: web.AppKey[StripeApi] = web.AppKey("stripe_api", StripeApi)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error_response(message: str, status: int = 400) -> web.Response:
    return _json({"error": {"type": "invalid_request_error", "message": message}}, status)


async def _api(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    body = await request.text() if request.can_read_body else ""
    content_type = request.content_type
    if body and content_type not in ("application/x-www-form-urlencoded", ""):
        return _error_response(
            f"Request bodies must be form-encoded (application/x-www-form-urlencoded), "
            f"as Stripe's v1 API requires; got {content_type}."
        )
    delay = api.faults.latency_seconds
    if delay > 0:
        await asyncio.sleep(delay)
    answer = api.handle(
        ApiRequest(
            method=request.method,
            path=request.path,
            query=request.query_string,
            body=body,
            headers=request.headers,
        )
    )
    return web.Response(
        status=answer.status,
        text=answer.body,
        content_type="application/json",
        headers=answer.headers,
    )


async def _health(request: web.Request) -> web.Response:
    return _json({"status": "ok"})


def _faults_view(api: StripeApi) -> dict[str, Any]:
    return {
        "config": api.faults.config.model_dump(),
        "injected": api.faults.counts.model_dump(),
    }


async def _get_faults(request: web.Request) -> web.Response:
    return _json(_faults_view(request.app[API_KEY]))


async def _set_faults(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    try:
        payload = json.loads(await request.text() or "{}")
    except json.JSONDecodeError as error:
        return _error_response(f"The fault configuration is not valid JSON: {error}")
    if not isinstance(payload, dict):
        return _error_response("The fault configuration must be a JSON object.")
    try:
        config = FaultConfig.model_validate(payload)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'config'}: {item['msg']}"
            for item in error.errors()
        )
        return _error_response(f"Invalid fault configuration: {problems}")
    api.faults.configure(config)
    return _json(_faults_view(api))


async def _clear_faults(request: web.Request) -> web.Response:
    api = request.app[API_KEY]
    api.faults.configure(FaultConfig())
    return _json(_faults_view(api))


async def _ledger(request: web.Request) -> web.Response:
    return _json(build_ledger(request.app[API_KEY].account).model_dump())


async def _reset(request: web.Request) -> web.Response:
    request.app[API_KEY].reset()
    return _json({"reset": True})


def build_app(api: StripeApi) -> web.Application:
    """The web application serving ``api`` and the admin endpoints."""
    app = web.Application()
    app[API_KEY] = api
    app.router.add_get("/_admin/health", _health)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/_admin/faults", _get_faults)
    app.router.add_post("/_admin/faults", _set_faults)
    app.router.add_delete("/_admin/faults", _clear_faults)
    app.router.add_get("/_admin/ledger", _ledger)
    app.router.add_post("/_admin/reset", _reset)
    app.router.add_route("*", "/{tail:.*}", _api)
    return app
