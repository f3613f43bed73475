"""The reserve-stock service's errors; their class names are the definition's error names."""

from __future__ import annotations

from services.common.errors import ServiceError


class OutOfStock(ServiceError):
    """The order cannot be met; the cause names each SKU short and what is available."""


class InventoryBusy(ServiceError):
    """The inventory database could not serve the command now."""

    retriable = True


class ReservationReleased(ServiceError):
    """The order's stock was released (or the order compensated) before this reservation."""


class ReservationConflict(ServiceError):
    """The order already reserved other items than this command asks for."""
