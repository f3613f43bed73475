"""Executions: the list with filters and search, one execution with its graph, and Stop."""

from __future__ import annotations

from aiohttp import web

from apps.desk.context import context, page_error, render, require
from apps.desk.executions import STATUSES, execution_view, list_executions
from services.review_desk import audit
from services.review_desk.accounts import Role


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/executions", executions_page)
    router.add_get("/execution", execution_page)
    router.add_post("/execution/stop", stop)


async def executions_page(request: web.Request) -> web.Response:
    query = request.query
    try:
        page = int(query.get("page", "1"))
    except ValueError:
        raise page_error(request, 400, "Bad page", "page must be a whole number") from None
    found = await list_executions(
        await context(request).api(),
        machine=query.get("machine") or None,
        status=query.get("status") or None,
        search=query.get("search") or None,
        page=page,
    )
    return render(request, "executions.html", listing=found, statuses=STATUSES, query=query)


async def execution_page(request: web.Request) -> web.Response:
    arn = request.query.get("arn", "")
    if not arn:
        raise page_error(request, 400, "No execution", "the page needs ?arn=EXECUTION_ARN")
    view = await execution_view(await context(request).api(), arn)
    return render(
        request,
        "execution.html",
        view=view,
        arn=arn,
        trail=await (await context(request).desk(online=False)).audit_trail(arn),
    )


async def stop(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    form = await request.post()
    arn = str(form.get("arn", ""))
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise page_error(request, 400, "No reason", "stopping an execution needs a reason")
    ctx = context(request)
    await (await ctx.api()).stop_execution(arn, error="StoppedByOperator", cause=reason)
    async with ctx.database.transaction() as tx:
        await audit.record(
            tx, at=ctx.clock(), actor=current.user.name, action="stop", subject=arn, reason=reason
        )
    raise web.HTTPSeeOther(f"/execution?arn={arn}")
