"""The audit: pure checks of the system's records after a run (see records.py)."""

from __future__ import annotations

from apps.chaos.audit.books import (
    compensated_once,
    money_conserved,
    no_double_effect,
    no_lost_order,
    stock_conserved,
)
from apps.chaos.audit.outcomes import OrderView, views
from apps.chaos.audit.replay import histories_replay
from apps.chaos.audit.retries import retries_obey_definition
from apps.chaos.audit.verdict import InvariantResult, Violation
from apps.chaos.records import Records

CHECKS = (
    no_lost_order,
    no_double_effect,
    money_conserved,
    stock_conserved,
    compensated_once,
    retries_obey_definition,
    histories_replay,
)


def audit(records: Records) -> list[InvariantResult]:
    """Each invariant over the records, in the order the README lists them."""
    by_order = views(records)
    return [check(records, by_order) for check in CHECKS]


__all__ = ["CHECKS", "InvariantResult", "OrderView", "Records", "Violation", "audit", "views"]
