"""The charge-payment service: ChargePayment and RefundPayment against Stripe.

Run it with ``python -m services.charge_payment``; its settings are in ``settings``.
"""

SERVICE = "charge-payment"
CHARGE_PAYMENT = "charge-payment"
REFUND_PAYMENT = "refund-payment"
