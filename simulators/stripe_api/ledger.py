"""The money ledger the invariant checks read: captured and refunded per PaymentIntent.

It is computed from the objects themselves each time it is asked for, so it cannot
drift from what the API answered. ``captured`` is money taken (``amount_received``);
``refunded`` is money given back by Refund objects; an authorisation released by
cancelling is neither, and shows only while it is held, as ``authorised``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .account import Account
from .records import PaymentIntentRecord, RefundRecord


class IntentEntry(BaseModel):
    id: str
    status: str
    currency: str
    amount: int
    authorised: int
    captured: int
    refunded: int
    net: int
    charge_attempts: int
    refunds: list[str]
    metadata: dict[str, str]


class CurrencyTotals(BaseModel):
    authorised: int = 0
    captured: int = 0
    refunded: int = 0
    net: int = 0


class Ledger(BaseModel):
    """Per-intent entries in creation order, and totals per currency."""

    payment_intents: list[IntentEntry] = Field(default_factory=list)
    totals: dict[str, CurrencyTotals] = Field(default_factory=dict)

    def entry(self, intent_id: str) -> IntentEntry:
        for entry in self.payment_intents:
            if entry.id == intent_id:
                return entry
        raise KeyError(f"no PaymentIntent {intent_id!r} in the ledger")


def _entry(intent: PaymentIntentRecord, refunds: list[RefundRecord]) -> IntentEntry:
    refunded = sum(refund.amount for refund in refunds)
    return IntentEntry(
        id=intent.id,
        status=intent.status,
        currency=intent.currency,
        amount=intent.amount,
        authorised=intent.amount_capturable,
        captured=intent.amount_received,
        refunded=refunded,
        net=intent.amount_received - refunded,
        charge_attempts=len(intent.charges),
        refunds=[refund.id for refund in refunds],
        metadata=dict(intent.metadata),
    )


def build_ledger(account: Account) -> Ledger:
    """The ledger of everything the account holds now."""
    refunds: dict[str, list[RefundRecord]] = {}
    for refund in account.refunds.values():
        refunds.setdefault(refund.payment_intent, []).append(refund)
    intents = sorted(account.intents.values(), key=lambda intent: intent.created)
    ledger = Ledger(
        payment_intents=[_entry(intent, refunds.get(intent.id, [])) for intent in intents]
    )
    for entry in ledger.payment_intents:
        totals = ledger.totals.setdefault(entry.currency, CurrencyTotals())
        totals.authorised += entry.authorised
        totals.captured += entry.captured
        totals.refunded += entry.refunded
        totals.net += entry.net
    return ledger
