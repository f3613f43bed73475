"""The review queue, one ticket, and the decisions: single, with order edits, in bulk."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from apps.desk.context import context, page_error, render, require
from apps.desk.executions import execution_view
from services.review_desk.accounts import Role
from services.review_desk.edits import editable_fields
from services.review_desk.queue import TicketFilter, queue_page, select
from services.review_desk.tickets import Decision, Ticket, TicketStatus
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning

EDIT_PREFIX = "edit:"


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", queue)
    router.add_get("/tickets/{ticket_id}", ticket_page)
    router.add_post("/tickets/{ticket_id}/claim", claim)
    router.add_post("/tickets/{ticket_id}/release", release)
    router.add_post("/tickets/{ticket_id}/decide", decide)
    router.add_post("/bulk/preview", bulk_preview)
    router.add_post("/bulk/apply", bulk_apply)


def read_filter(request: web.Request, values: Any) -> TicketFilter:
    """The filter in a query or form; 400 naming the field that is not a number."""
    ages: dict[str, float | None] = {}
    for field in ("min_age", "max_age"):
        raw = str(values.get(field, "") or "").strip()
        try:
            ages[field] = float(raw) if raw else None
        except ValueError:
            raise page_error(
                request, 400, "Bad filter", f"{field} must be a number of minutes, not {raw!r}"
            ) from None
        if ages[field] is not None and ages[field] < 0:  # type: ignore[operator]
            raise page_error(request, 400, "Bad filter", f"{field} cannot be negative")
    return TicketFilter(
        step=str(values.get("step", "") or "") or None,
        error=str(values.get("error", "") or "") or None,
        min_age_minutes=ages["min_age"],
        max_age_minutes=ages["max_age"],
    )


async def queue(request: web.Request) -> web.Response:
    desk = await context(request).desk(online=False)
    wanted = read_filter(request, request.query)
    try:
        page = int(request.query.get("page", "1"))
    except ValueError:
        raise page_error(request, 400, "Bad page", "page must be a whole number") from None
    newest = request.query.get("sort") == "newest"
    found = queue_page(
        await desk.list_tickets(), wanted, context(request).clock(), newest_first=newest, page=page
    )
    return render(
        request,
        "queue.html",
        queue=found,
        filter=wanted,
        sort="newest" if newest else "oldest",
        holders=await desk.holders(),
        decisions=[d.value for d in Decision],
        query=request.query,
    )


async def ticket_page(request: web.Request) -> web.Response:
    ctx = context(request)
    desk = await ctx.desk(online=False)
    ticket = await desk.ticket(request.match_info["ticket_id"])
    view, unavailable = None, None
    try:
        view = await execution_view(
            await ctx.api(), ticket.execution_arn, failed_state=ticket.failed_state
        )
    except (ApiError, StackNotRunning, OSError) as exc:
        unavailable = str(exc)
    order = ticket.order if isinstance(ticket.order, dict) else {}
    return render(
        request,
        "ticket.html",
        ticket=ticket,
        order=order,
        view=view,
        unavailable=unavailable,
        holder=await desk.holder(ticket.ticket_id),
        trail=await desk.audit_trail(ticket.ticket_id),
        editable=[(f, _current(order, f)) for f in editable_fields(ticket.failed_state)],
        decisions=[d.value for d in Decision],
        is_open=ticket.status is TicketStatus.OPEN,
        done=request.query.get("done", ""),
    )


async def claim(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    ticket_id = request.match_info["ticket_id"]
    desk = await context(request).desk(online=False)
    await desk.claim(ticket_id, operator=current.user.name)
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}")


async def release(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    ticket_id = request.match_info["ticket_id"]
    desk = await context(request).desk(online=False)
    await desk.release(
        ticket_id, operator=current.user.name, anyone=current.user.role is Role.ADMIN
    )
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}")


async def decide(request: web.Request) -> web.StreamResponse:
    current = require(request, Role.OPERATOR)
    ticket_id = request.match_info["ticket_id"]
    form = await request.post()
    decision, reason = _decision_and_reason(request, form)
    desk = await context(request).desk()
    ticket = await desk.ticket(ticket_id)
    edits = _edits(form, ticket) if decision == Decision.RETRY else {}
    done = await desk.resolve(
        ticket_id, decision=decision, note=reason, operator=current.user.name, edits=edits
    )
    raise web.HTTPSeeOther(f"/tickets/{ticket_id}?done={done.status}")


async def bulk_preview(request: web.Request) -> web.Response:
    require(request, Role.OPERATOR)
    form = await request.post()
    decision, reason = _decision_and_reason(request, form)
    desk = await context(request).desk(online=False)
    tickets = await desk.list_tickets()
    if form.get("scope") == "filter":
        wanted = read_filter(request, form)
        chosen = select(tickets, wanted, context(request).clock())
    else:
        ids = set(form.getall("ticket", []))
        chosen = [t for t in tickets if t.ticket_id in ids]
    if not chosen:
        raise page_error(request, 400, "Nothing selected", "no open ticket is selected")
    return render(
        request,
        "bulk_preview.html",
        tickets=chosen,
        decision=decision,
        reason=reason,
        holders=await desk.holders(),
    )


async def bulk_apply(request: web.Request) -> web.Response:
    current = require(request, Role.OPERATOR)
    form = await request.post()
    decision, reason = _decision_and_reason(request, form)
    ids = [str(i) for i in form.getall("ticket", [])]
    if not ids:
        raise page_error(request, 400, "Nothing selected", "no ticket is selected")
    desk = await context(request).desk()
    outcomes = await desk.resolve_many(
        ids, decision=decision, note=reason, operator=current.user.name
    )
    return render(
        request, "bulk_result.html", outcomes=outcomes, decision=decision, reason=reason
    )


def _decision_and_reason(request: web.Request, form: MultiDictProxy[Any]) -> tuple[str, str]:
    decision = str(form.get("decision", ""))
    reason = str(form.get("reason", "")).strip()
    if decision not in {d.value for d in Decision}:
        allowed = ", ".join(d.value for d in Decision)
        raise page_error(
            request, 400, "No decision", f"choose a decision ({allowed}), not {decision!r}"
        )
    if not reason:
        raise page_error(request, 400, "No reason", "a decision needs a reason")
    if len(reason) > 2000:
        raise page_error(request, 400, "Reason too long", "a reason is at most 2000 characters")
    return decision, reason


def _edits(form: MultiDictProxy[Any], ticket: Ticket) -> dict[str, str]:
    """The edited fields whose value differs from the order's."""
    order = ticket.order if isinstance(ticket.order, dict) else {}
    edits = {}
    for key, value in form.items():
        if key.startswith(EDIT_PREFIX) and isinstance(value, str):
            field = key.removeprefix(EDIT_PREFIX)
            if value.strip() != _current(order, field):
                edits[field] = value
    return edits


def _current(order: dict[str, Any], field: str) -> str:
    value: Any = order
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)

