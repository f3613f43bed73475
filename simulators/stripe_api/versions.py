"""The API versions at which Stripe changed what the stand-in's endpoints do.

A request's version is its ``Stripe-Version`` header (the SDK always sends the version it
was built for); without one, the stand-in answers as the version below, as a Stripe
account answers with its default version.
"""

from __future__ import annotations

DEFAULT = "2026-10-28.endive"

# New PaymentIntents default to dynamic (dashboard-enabled) payment methods.
AUTOMATIC_METHODS_BY_DEFAULT = "2023-08-16"
# New PaymentIntents default to capture_method=automatic_async.
ASYNC_CAPTURE_BY_DEFAULT = "2024-04-10"
# ``excluded_payment_method_types`` is accepted on create.
EXCLUDED_METHOD_TYPES = "2025-08-27"
# ``allowed_payment_method_types`` is accepted on create.
ALLOWED_METHOD_TYPES = "2026-07-29"
# Writing ``payment_method_types`` is refused with payment_method_types_no_longer_supported.
METHOD_TYPES_READ_ONLY = "2026-09-30"


def is_since(version: str, change: str) -> bool:
    """Whether ``version`` (``YYYY-MM-DD`` with an optional ``.name``) includes ``change``."""
    return version[:10] >= change
