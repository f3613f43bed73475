"""Reading the orders view, as the ``stepstream orders`` commands do.

The view may lag the orchestrator by a message or two, or miss an order it has not seen
yet; ``show_order`` then completes it from the execution's history when it is given a
``HistorySource``, without writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.order_view import repository
from services.order_view.projection import OrderStatus, project
from services.order_view.projector import HistorySource
from services.order_view.repository import DDL, DEFAULT_SCHEMA, OrderView
from services.order_view.settings import OrderViewSettings
from stepstream import arns
from stepstream.sql.database import Database, open_database

_FINAL = frozenset(
    {OrderStatus.SUCCEEDED, OrderStatus.FAILED, OrderStatus.TIMED_OUT, OrderStatus.ABORTED}
)


class OrderNotFound(LookupError):
    """No order with this id or execution ARN, in the view or in the history."""

    def __init__(self, order_id: str) -> None:
        super().__init__(f"no order {order_id!r} in the orders view or the execution history")
        self.order_id = order_id


@dataclass(frozen=True)
class ShownOrder:
    """An order and where it was read: "view", "view+history" (caught up) or "history"."""

    order: OrderView
    source: str


async def open_view(settings: OrderViewSettings) -> Database:
    """The view's database, opened (its tables created if the view never ran)."""
    return await open_database(settings.database_url(), default_schema=DEFAULT_SCHEMA, ddl=DDL)


async def list_orders(database: Database, *, limit: int = 1000) -> list[OrderView]:
    """Orders, the most recently started first."""
    async with database.transaction() as tx:
        return await repository.list_orders(tx, limit=limit)


async def show_order(
    database: Database,
    order_id: str,
    *,
    history: HistorySource | None = None,
    state_machine: str = "Fulfilment",
) -> ShownOrder:
    """One order by id or execution ARN; ``OrderNotFound`` when neither source knows it."""
    async with database.transaction() as tx:
        seen = await repository.find_order(tx, order_id)
        receipt = await repository.find_receipt(tx, seen.row.order_id if seen else order_id)
    if seen is not None and (seen.row.status in _FINAL or history is None):
        return ShownOrder(seen, "view")
    if history is None:
        raise OrderNotFound(order_id)
    arn: str | None
    if seen is not None:
        arn, machine = seen.row.execution_arn, seen.row.state_machine
    else:
        arn, machine = _execution(state_machine, order_id)
    before = seen.row if seen is not None else None
    row = project(before, arn, machine, await history.history(arn)) if arn else before
    if row is None:
        raise OrderNotFound(order_id)
    if seen is None:
        return ShownOrder(OrderView(row=row, receipt=receipt), "history")
    if row is before:
        return ShownOrder(seen, "view")
    return ShownOrder(OrderView(row=row, receipt=receipt), "view+history")


def _execution(state_machine: str, order_id: str) -> tuple[str | None, str]:
    """The execution ARN and state machine an order id or ARN names (None: it names none)."""
    try:
        machine, _ = arns.parse_execution_arn(order_id)
    except ValueError:
        try:
            arns.check_name("execution", order_id)
        except arns.InvalidName:
            return None, state_machine
        return arns.execution_arn(state_machine, order_id), state_machine
    return order_id, machine
