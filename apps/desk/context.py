"""What every handler of the desk shares: the database, the API, the clock, the templates,
and the helpers that read the signed-in user and check their role."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from apps.desk.security import SignInLimiter
from apps.desk.settings import DeskSettings
from services.review_desk.accounts import Role, Session
from services.review_desk.desk import ReviewDesk
from stepstream.api.client import StepStreamClient
from stepstream.sql.database import Database

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "stepstream_desk"
SIGNIN_COOKIE = "stepstream_desk_signin"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class DeskContext:
    database: Database
    # The running stack's API; raises when it cannot be reached (the page says so).
    api: Callable[[], Awaitable[StepStreamClient]]
    settings: DeskSettings
    clock: Callable[[], datetime] = _now
    limiter: SignInLimiter = field(init=False)
    templates: jinja2.Environment = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = SignInLimiter(
            attempts=self.settings.desk_signin_attempts,
            window_seconds=self.settings.desk_signin_window_seconds,
            clock=time.monotonic,
        )
        self.templates = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.templates.filters["age"] = lambda opened: _age(self.clock() - opened)

    async def desk(self, *, online: bool = True) -> ReviewDesk:
        executions = await self.api() if online else None
        return ReviewDesk(database=self.database, executions=executions, clock=self.clock)


CONTEXT = web.AppKey("desk", DeskContext)
# The signed-in session of a request (None on the pages that need none).
SESSION: web.RequestKey[Session | None] = web.RequestKey("session")


def context(request: web.Request) -> DeskContext:
    return request.app[CONTEXT]


def session(request: web.Request) -> Session:
    found: Session | None = request.get(SESSION)
    if found is None:
        raise web.HTTPUnauthorized(text="sign in first")
    return found


def require(request: web.Request, role: Role) -> Session:
    """The signed-in session, if its user has ``role`` (or more); 403 otherwise."""
    current = session(request)
    if not current.user.role.allows(role):
        raise page_error(
            request,
            403,
            "Not allowed",
            f"{current.user.name} is a {current.user.role}; this needs the {role} role.",
        )
    return current


def render(
    request: web.Request, template: str, status: int = 200, **values: Any
) -> web.Response:
    current = request.get(SESSION)
    text = context(request).templates.get_template(template).render(
        user=current.user if current else None,
        csrf_token=current.csrf_token if current else "",
        Role=Role,
        path=request.path_qs,
        **values,
    )
    return web.Response(text=text, status=status, content_type="text/html")


def page_error(request: web.Request, status: int, title: str, message: str) -> web.HTTPException:
    """An HTTP error whose body is the desk's error page saying ``message``."""
    response = render(request, "error.html", status=status, title=title, message=message)
    kind = _ERRORS.get(status, web.HTTPBadRequest)
    return kind(text=response.text, content_type="text/html")


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


def _age(delta: Any) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"
