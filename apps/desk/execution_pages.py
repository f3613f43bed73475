"""Executions: the list with filters and search, one execution with its graph, Stop, and
Redrive of one execution or of every one a filter picks (after a preview)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from apps.desk.context import DeskContext, context, page_error, render, require
from apps.desk.executions import (
    REDRIVABLE,
    REDRIVE_FILTERS,
    STATUSES,
    ExecutionFilter,
    RedriveOutcome,
    execution_view,
    list_executions,
    matching_executions,
    redrive_many,
)
from services.review_desk import audit
from services.review_desk.accounts import Role


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/executions", executions_page)
    router.add_get("/execution", execution_page)
    router.add_post("/execution/stop", stop)
    router.add_post("/execution/redrive", redrive)
    router.add_post("/executions/redrive/preview", bulk_redrive_preview)
    router.add_post("/executions/redrive/apply", bulk_redrive_apply)


def _filter(values: Any) -> ExecutionFilter:
    return ExecutionFilter(
        machine=values.get("machine") or None,
        status=values.get("status") or None,
        search=values.get("search") or None,
        redriven=values.get("redriven") or None,
    )


async def executions_page(request: web.Request) -> web.Response:
    query = request.query
    try:
        page = int(query.get("page", "1"))
    except ValueError:
        raise page_error(request, 400, "Bad page", "page must be a whole number") from None
    wanted = _filter(query)
    found = await list_executions(await context(request).api(), wanted, page=page)
    return render(
        request,
        "executions.html",
        listing=found,
        statuses=STATUSES,
        redrive_filters=REDRIVE_FILTERS,
        redrivable=wanted.status in REDRIVABLE,
        query=query,
    )


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
        redrivable=view.described["status"] in REDRIVABLE,
        client_token=uuid.uuid4().hex,
        trail=await (await context(request).desk(online=False)).audit_trail(arn),
    )


def _reason(request: web.Request, form: Any, what: str) -> str:
    reason = str(form.get("reason", "")).strip()
    if not reason:
        raise page_error(request, 400, "No reason", f"{what} needs a reason")
    return reason


async def stop(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    form = await request.post()
    arn = str(form.get("arn", ""))
    reason = _reason(request, form, "stopping an execution")
    ctx = context(request)
    await (await ctx.api()).stop_execution(arn, error="StoppedByOperator", cause=reason)
    async with ctx.database.transaction() as tx:
        await audit.record(
            tx, at=ctx.clock(), actor=current.user.name, action="stop", subject=arn, reason=reason
        )
    raise web.HTTPSeeOther(f"/execution?arn={arn}")


async def redrive(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    form = await request.post()
    arn = str(form.get("arn", ""))
    reason = _reason(request, form, "a redrive")
    batch = str(form.get("client_token", "")) or uuid.uuid4().hex
    ctx = context(request)
    [outcome] = await redrive_many(await ctx.api(), [arn], batch=batch)
    await _audit_redrives(ctx, current.user.name, [outcome], reason, batch)
    if not outcome.ok:
        raise page_error(request, 409, "Not redriven", outcome.message)
    raise web.HTTPSeeOther(f"/execution?arn={arn}")


async def bulk_redrive_preview(request: web.Request) -> web.Response:
    require(request, Role.OPERATOR)
    form = await request.post()
    reason = _reason(request, form, "a redrive")
    wanted = _filter(form)
    if wanted.status not in REDRIVABLE:
        raise page_error(
            request,
            400,
            "Nothing to redrive",
            f"filter by a status that can be redriven ({', '.join(REDRIVABLE)}) first",
        )
    found = await matching_executions(await context(request).api(), wanted)
    if not found:
        raise page_error(request, 400, "Nothing to redrive", "no execution matches the filter")
    return render(
        request, "redrive_preview.html", executions=found, reason=reason, batch=uuid.uuid4().hex
    )


async def bulk_redrive_apply(request: web.Request) -> web.Response:
    current = require(request, Role.OPERATOR)
    form = await request.post()
    reason = _reason(request, form, "a redrive")
    arns = [str(a) for a in form.getall("arn", [])]
    if not arns:
        raise page_error(request, 400, "Nothing selected", "no execution is selected")
    batch = str(form.get("batch", "")) or uuid.uuid4().hex
    ctx = context(request)
    outcomes = await redrive_many(await ctx.api(), arns, batch=batch)
    await _audit_redrives(ctx, current.user.name, outcomes, reason, batch)
    return render(request, "redrive_result.html", outcomes=outcomes, reason=reason)


async def _audit_redrives(
    ctx: DeskContext, actor: str, outcomes: list[RedriveOutcome], reason: str, batch: str
) -> None:
    async with ctx.database.transaction() as tx:
        for outcome in outcomes:
            await audit.record(
                tx,
                at=ctx.clock(),
                actor=actor,
                action="redrive" if outcome.ok else "redrive-refused",
                subject=outcome.execution_arn,
                reason=reason,
                detail={"batch": batch, "result": outcome.message},
            )
