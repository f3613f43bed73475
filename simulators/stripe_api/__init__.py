"""A local stand-in for the part of Stripe's REST API that stepstream's payments use.

The official ``stripe`` SDK talks to it unchanged: payment intents (create, confirm,
capture, cancel, retrieve) and refunds (create, retrieve), form-encoded as Stripe is, with
Stripe's error shapes, idempotency keys and test payment methods, plus an admin API for
fault injection and a ledger of the money captured and refunded.
"""

from .admin_client import FaultsView, StandInAdmin, StandInAdminError
from .faults import FaultConfig, FaultCounts
from .ledger import CurrencyTotals, IntentEntry, Ledger
from .server import StripeStandIn

__all__ = [
    "CurrencyTotals",
    "FaultConfig",
    "FaultCounts",
    "FaultsView",
    "IntentEntry",
    "Ledger",
    "StandInAdmin",
    "StandInAdminError",
    "StripeStandIn",
]
