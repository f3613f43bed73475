"""Receipt events on the receipts topic, keyed by order id, in stepstream's envelope."""

from __future__ import annotations

from services.emit_receipt.errors import ReceiptNotPublished
from services.emit_receipt.receipts import RECEIPT_EMITTED, Receipt
from stepstream.messaging.bus import Publisher
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.topics import Topics


def receipt_envelope(receipt: Receipt) -> Envelope:
    """The ``receipt.emitted`` envelope announcing ``receipt``."""
    return Envelope(
        kind=RECEIPT_EMITTED,
        execution_id=receipt.execution_id,
        payload=receipt.event_payload(),
    )


class BusReceiptEvents:
    """``ReceiptEvents`` through a started ``Publisher``."""

    def __init__(self, publisher: Publisher, topics: Topics) -> None:
        self._publisher = publisher
        self._topic = topics.receipts()

    async def publish(self, receipt: Receipt) -> None:
        try:
            await self._publisher.publish(self._topic, receipt.order_id, receipt_envelope(receipt))
        except Exception as exc:
            # Whatever the broker client raised, the receipt itself is safe; say so by name.
            raise ReceiptNotPublished(
                f"receipt {receipt.receipt_id} of order {receipt.order_id} is recorded but its "
                f"event could not be published to {self._topic}: {type(exc).__name__}: {exc}"
            ) from exc
