"""The book-shipment service: BookShipment against the carrier's HTTP API.

Run it with ``python -m services.book_shipment``; its settings are in ``settings``.
"""

SERVICE = "book-shipment"
BOOK_SHIPMENT = "book-shipment"
