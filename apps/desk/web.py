"""The desk's aiohttp application: routes, and the middlewares every request passes.

In order: errors become the desk's error page; no body leaves with a task token in it;
a request without a valid session is sent to sign in; a state-changing request must
carry the session's CSRF token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from apps.desk import audit_pages, auth_pages, execution_pages, ticket_pages
from apps.desk.context import CONTEXT, SESSION, SESSION_COOKIE, DeskContext, context, page_error
from apps.desk.security import hide_task_tokens, same_token
from services.review_desk import accounts
from services.review_desk.desk import ReviewError
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning

STATIC = Path(__file__).parent / "static"
# Reachable without a session.
PUBLIC = ("/signin", "/static/", "/healthz", "/favicon.ico")
_TEXT_TYPES = ("text/html", "application/json", "text/csv", "text/plain")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(desk: DeskContext) -> web.Application:
    app = web.Application(
        middlewares=[_no_task_tokens, _errors, _signed_in, _csrf],
        client_max_size=256 * 1024,
    )
    app[CONTEXT] = desk
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/favicon.ico", _no_icon)
    app.router.add_static("/static/", STATIC)
    auth_pages.add_routes(app.router)
    ticket_pages.add_routes(app.router)
    execution_pages.add_routes(app.router)
    audit_pages.add_routes(app.router)
    return app


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


async def _no_icon(request: web.Request) -> web.Response:
    return web.Response(status=204)


@web.middleware
async def _no_task_tokens(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.text:
            exc.text = hide_task_tokens(exc.text)
        raise
    if (
        isinstance(response, web.Response)
        and response.body is not None
        and response.content_type in _TEXT_TYPES
        and response.text is not None
    ):
        response.text = hide_task_tokens(response.text)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    )
    return response


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ReviewError as exc:
        status = 404 if exc.code == "TicketNotFound" else 409
        if exc.code == "InvalidDecision":
            status = 400
        raise page_error(request, status, exc.code, exc.message) from None
    except ApiError as exc:
        status = 404 if exc.code.endswith("DoesNotExist") else 409
        if exc.code in ("InvalidArguments", "InvalidName"):
            status = 400
        raise page_error(request, status, exc.code, exc.message) from None
    except (StackNotRunning, OSError) as exc:
        raise page_error(
            request, 503, "Stack unavailable", f"the running stack cannot be reached: {exc}"
        ) from None


@web.middleware
async def _signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC):
        request[SESSION] = None
        return await handler(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    found = None
    if cookie:
        desk = context(request)
        async with desk.database.transaction() as tx:
            found = await accounts.find_session(tx, cookie, at=desk.clock())
    if found is None:
        request[SESSION] = None
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(f"/signin?next={_quote(request.path_qs)}")
        raise page_error(request, 401, "Not signed in", "sign in first")
    request[SESSION] = found
    return await handler(request)


@web.middleware
async def _csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    current = request.get(SESSION)
    if request.method not in ("GET", "HEAD", "OPTIONS") and current is not None:
        form = await request.post()
        given = form.get("csrf_token") or request.headers.get("X-CSRF-Token")
        if not same_token(given if isinstance(given, str) else None, current.csrf_token):
            raise page_error(
                request,
                403,
                "Request refused",
                "the form's CSRF token is missing or wrong: reload the page and try again",
            )
    return await handler(request)


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="")
