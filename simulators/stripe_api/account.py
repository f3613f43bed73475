"""The state of one stand-in account: its objects, their ids, and what changed.

Every object the API creates or changes passes through ``touch`` so that the server
can hand the changes of one request to the store in a single transaction. Lookups hand
out copies: an operation that fails half-way leaves nothing behind unless it touched it.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable, Iterable

from .errors import missing_resource
from .records import (
    ChargeRecord,
    PaymentIntentRecord,
    PaymentMethodRecord,
    Record,
    RefundRecord,
)

_ID_ALPHABET = string.ascii_letters + string.digits


class Account:
    """Objects of one account, keyed by id, with lookups that fail as Stripe does."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._rng = rng or random.Random()
        self.intents: dict[str, PaymentIntentRecord] = {}
        self.charges: dict[str, ChargeRecord] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self.payment_methods: dict[str, PaymentMethodRecord] = {}
        self._changed: dict[str, Record] = {}

    def now(self) -> int:
        """Seconds since the epoch, as Stripe's ``created`` fields hold them."""
        return int(self._clock())

    def new_id(self, prefix: str, length: int = 24) -> str:
        """A fresh id; drawn again on a clash, since a seeded source may repeat itself
        across restarts of a stand-in whose state was kept."""
        while True:
            candidate = f"{prefix}_{self.token(length)}"
            if not self._exists(candidate):
                return candidate

    def _exists(self, object_id: str) -> bool:
        return any(
            object_id in kind
            for kind in (self.intents, self.charges, self.refunds, self.payment_methods)
        )

    def token(self, length: int) -> str:
        # One call for the whole id: 4 us against 12 us for a draw per character, and a
        # request makes three or four ids.
        return "".join(self._rng.choices(_ID_ALPHABET, k=length))

    def touch(self, record: Record) -> None:
        """Add or update an object and remember it for the next ``take_changes``."""
        match record:
            case PaymentIntentRecord():
                self.intents[record.id] = record
            case ChargeRecord():
                self.charges[record.id] = record
            case RefundRecord():
                self.refunds[record.id] = record
            case PaymentMethodRecord():
                self.payment_methods[record.id] = record
        self._changed[record.id] = record

    def take_changes(self) -> list[Record]:
        """Objects touched since the last call, each once."""
        changed = list(self._changed.values())
        self._changed.clear()
        return changed

    def discard_changes(self) -> None:
        self._changed.clear()

    def load(self, records: Iterable[Record]) -> None:
        """Put back objects read from a store, without marking them changed."""
        for record in records:
            self.touch(record)
        self._changed.clear()

    def clear(self) -> None:
        self.intents.clear()
        self.charges.clear()
        self.refunds.clear()
        self.payment_methods.clear()
        self._changed.clear()

    def intent(self, intent_id: str, *, param: str = "intent") -> PaymentIntentRecord:
        found = self.intents.get(intent_id)
        if found is None:
            raise missing_resource("payment_intent", intent_id, param=param)
        return found.model_copy(deep=True)

    def charge(self, charge_id: str, *, param: str = "id") -> ChargeRecord:
        found = self.charges.get(charge_id)
        if found is None:
            raise missing_resource("charge", charge_id, param=param)
        return found.model_copy(deep=True)

    def refund(self, refund_id: str) -> RefundRecord:
        found = self.refunds.get(refund_id)
        if found is None:
            raise missing_resource("refund", refund_id, param="id")
        return found.model_copy(deep=True)
