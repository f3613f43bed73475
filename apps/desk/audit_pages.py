"""The audit log: shown, and exported as CSV or JSON."""

from __future__ import annotations

import json

from aiohttp import web

from apps.desk.context import context, render
from services.review_desk import audit


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/audit", audit_page)


async def audit_page(request: web.Request) -> web.Response:
    subject = request.query.get("subject") or None
    async with context(request).database.transaction() as tx:
        entries = await audit.entries(tx, subject=subject, limit=100_000)
    kind = request.query.get("format", "html")
    if kind == "csv":
        return web.Response(
            text=audit.as_csv(entries),
            content_type="text/csv",
            headers={"Content-Disposition": 'attachment; filename="desk-audit.csv"'},
        )
    if kind == "json":
        return web.Response(
            text=json.dumps([e.to_json() for e in entries], indent=2),
            content_type="application/json",
        )
    return render(request, "audit.html", entries=entries[::-1], subject=subject or "")
