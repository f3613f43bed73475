"""The web desk served on a free port of 127.0.0.1, and an HTTP client that signs in,
keeps its cookies and sends the CSRF token its last page held, as a browser would."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from apps.desk.context import DeskContext
from apps.desk.settings import DeskSettings
from apps.desk.web import create_app
from services.review_desk import accounts
from stepstream.api.client import StepStreamClient
from stepstream.sql.database import Database

PASSWORD = "correct horse battery"
USERS = {"vera": "viewer", "otto": "operator", "olga": "operator", "ada": "admin"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_SIGNIN = re.compile(r'name="signin_token" value="([^"]+)"')


async def add_users(database: Database) -> None:
    async with database.transaction() as tx:
        for name, role in USERS.items():
            await accounts.add_user(tx, name, role, PASSWORD, at=datetime.now(UTC))


@contextlib.asynccontextmanager
async def desk_server(
    database: Database,
    api: Callable[[], Awaitable[StepStreamClient]],
    data_dir: Path,
    **settings: Any,
) -> AsyncIterator[str]:
    """The desk's address while it serves ``database``, reaching executions through ``api``."""
    context = DeskContext(
        database=database, api=api, settings=DeskSettings(data_dir=data_dir, **settings)
    )
    runner = web.AppRunner(create_app(context))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@dataclass
class Page:
    status: int
    text: str
    url: str
    headers: Any

    @property
    def plain(self) -> str:
        """The text with HTML's character references read (quotes, ampersands)."""
        return html.unescape(self.text)

    @property
    def csrf(self) -> str | None:
        found = _CSRF.search(self.text)
        return found.group(1) if found else None


class DeskClient:
    """One person's browser: cookies kept, the last page's CSRF token sent with a form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf: str | None = None
        self.bodies: list[str] = []

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str) -> Page:
        async with self.session.get(self.base + path) as response:
            return await self._page(response)

    async def post(self, path: str, data: Any, *, csrf: bool = True) -> Page:
        form = list(data.items()) if isinstance(data, dict) else list(data)
        if csrf and self.csrf:
            form.append(("csrf_token", self.csrf))
        async with self.session.post(self.base + path, data=form) as response:
            return await self._page(response)

    async def sign_in(self, name: str, password: str = PASSWORD) -> Page:
        form = await self.get("/signin")
        found = _SIGNIN.search(form.text)
        assert found is not None
        return await self.post(
            "/signin",
            {"name": name, "password": password, "signin_token": found.group(1), "next": "/"},
            csrf=False,
        )

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        page = Page(response.status, await response.text(), str(response.url), response.headers)
        self.bodies.append(page.text)
        if page.csrf:
            self.csrf = page.csrf
        return page


@contextlib.asynccontextmanager
async def signed_in(base: str, name: str, password: str = PASSWORD) -> AsyncIterator[DeskClient]:
    client = DeskClient(base)
    try:
        page = await client.sign_in(name, password)
        assert page.status == 200, page.text
        yield client
    finally:
        await client.close()
