"""The book-shipment service: BookShipment and CancelShipment against the carrier's HTTP API.

Run it with ``python -m services.book_shipment``; its settings are in ``settings``.
"""

SERVICE = "book-shipment"
BOOK_SHIPMENT = "book-shipment"
CANCEL_SHIPMENT = "cancel-shipment"
