"""The reserve-stock service: ReserveStock and ReleaseStock against the inventory database.

Run it with ``python -m services.reserve_stock``; its settings are in ``settings``.
"""

SERVICE = "reserve-stock"
RESERVE_STOCK = "reserve-stock"
RELEASE_STOCK = "release-stock"
