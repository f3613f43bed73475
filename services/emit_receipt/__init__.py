"""The emit-receipt service: EmitReceipt writes the order's receipt and announces it.

Run it with ``python -m services.emit_receipt``; its settings are in ``settings``.
"""

SERVICE = "emit-receipt"
EMIT_RECEIPT = "emit-receipt"
