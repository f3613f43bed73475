"""Signing in and out, and the users page (admins only)."""

from __future__ import annotations

import secrets

from aiohttp import web

from apps.desk.context import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    context,
    page_error,
    render,
    require,
    session,
)
from apps.desk.security import same_token
from services.review_desk import accounts, audit
from services.review_desk.accounts import AccountError, Role


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/signin", signin_page)
    router.add_post("/signin", signin)
    router.add_post("/signout", signout)
    router.add_get("/users", users_page)
    router.add_post("/users", add_user)
    router.add_post("/users/role", change_role)


def _next(value: object) -> str:
    # Only a path on this desk: never an address elsewhere.
    target = value if isinstance(value, str) else "/"
    return target if target.startswith("/") and not target.startswith("//") else "/"


def _signin_form(request: web.Request, status: int = 200, message: str = "") -> web.Response:
    # Sign-in has no session yet: a cookie and a form field that must match keep another
    # site from signing a browser in (double-submit).
    # The same token while the cookie lasts, so two tabs (or a stray request for an icon
    # sent here) do not make each other's form stale.
    token = request.cookies.get(SIGNIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "signin.html",
        status=status,
        signin_token=token,
        next=_next(request.query.get("next")),
        message=message,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=context(request).settings.desk_secure_cookies,
        path="/signin",
    )
    return response


async def signin_page(request: web.Request) -> web.Response:
    return _signin_form(request)


async def signin(request: web.Request) -> web.StreamResponse:
    desk = context(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    given = form.get("signin_token")
    expected = request.cookies.get(SIGNIN_COOKIE, "\0")
    if not same_token(given if isinstance(given, str) else None, expected):
        return _signin_form(request, 403, "The sign-in form expired: try again.")
    keys = (f"user:{name.lower()}", f"addr:{request.remote}")
    wait = desk.limiter.wait_seconds(*keys)
    if wait > 0:
        return _signin_form(
            request, 429, f"Too many failed sign-ins: try again in {int(wait) + 1} s."
        )
    async with desk.database.transaction() as tx:
        user = await accounts.authenticate(tx, name, password)
        if user is None:
            await audit.record(
                tx,
                at=desk.clock(),
                actor=name or "(no name)",
                action="sign-in-failed",
                subject=f"user:{name}",
                detail={"address": request.remote},
            )
        else:
            cookie, _ = await accounts.open_session(tx, user, at=desk.clock())
            await audit.record(
                tx,
                at=desk.clock(),
                actor=user.name,
                action="sign-in",
                subject=f"user:{user.name}",
                detail={"address": request.remote},
            )
    if user is None:
        desk.limiter.failed(*keys)
        return _signin_form(request, 401, "Wrong user name or password.")
    desk.limiter.succeeded(*keys)
    response = web.Response(status=303, headers={"Location": _next(form.get("next"))})
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="Strict",
        secure=desk.settings.desk_secure_cookies,
        path="/",
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
    )
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    desk = context(request)
    current = session(request)
    async with desk.database.transaction() as tx:
        await accounts.close_session(tx, request.cookies.get(SESSION_COOKIE, ""))
        await audit.record(
            tx,
            at=desk.clock(),
            actor=current.user.name,
            action="sign-out",
            subject=f"user:{current.user.name}",
        )
    response = web.Response(status=303, headers={"Location": "/signin"})
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


async def users_page(request: web.Request, message: str = "", status: int = 200) -> web.Response:
    require(request, Role.ADMIN)
    async with context(request).database.transaction() as tx:
        users = await accounts.list_users(tx)
    return render(
        request, "users.html", status=status, users=users, roles=list(Role), message=message
    )


async def add_user(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.ADMIN)
    desk = context(request)
    form = await request.post()
    name, role = str(form.get("name", "")).strip(), str(form.get("role", ""))
    try:
        async with desk.database.transaction() as tx:
            await accounts.add_user(tx, name, role, str(form.get("password", "")), at=desk.clock())
            await audit.record(
                tx,
                at=desk.clock(),
                actor=current.user.name,
                action="add-user",
                subject=f"user:{name}",
                detail={"role": role},
            )
    except AccountError as exc:
        return await users_page(request, str(exc), status=400)
    raise web.HTTPSeeOther("/users")


async def change_role(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.ADMIN)
    desk = context(request)
    form = await request.post()
    name, role = str(form.get("name", "")), str(form.get("role", ""))
    if name == current.user.name:
        raise page_error(request, 400, "Not changed", "an admin cannot change their own role")
    try:
        async with desk.database.transaction() as tx:
            await accounts.set_role(tx, name, role)
            await audit.record(
                tx,
                at=desk.clock(),
                actor=current.user.name,
                action="set-role",
                subject=f"user:{name}",
                detail={"role": role},
            )
    except AccountError as exc:
        return await users_page(request, str(exc), status=400)
    raise web.HTTPSeeOther("/users")
