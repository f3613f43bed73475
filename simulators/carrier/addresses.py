"""Which addresses the simulated carrier accepts.

The rules are fixed and deterministic, so a test or a demo can ask for a permanent
rejection by address alone: a country the carrier does not serve, a postal code that does
not fit its country, or the magic first line ``REJECT``.
"""

from __future__ import annotations

import re

from .models import Address

REJECT_LINE1 = "REJECT"

# The postal code forms of the countries served; a country missing here is not served.
POSTAL_CODES: dict[str, re.Pattern[str]] = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "CA": re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
    "IE": re.compile(r"^[A-Z]\d[\dW] ?[A-Z\d]{4}$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "ES": re.compile(r"^\d{5}$"),
    "IT": re.compile(r"^\d{5}$"),
    "NL": re.compile(r"^\d{4} ?[A-Z]{2}$"),
    "BE": re.compile(r"^\d{4}$"),
}


def rejection_reason(address: Address) -> str | None:
    """Why the carrier refuses to deliver to ``address``, or None when it accepts it."""
    country = address.country.upper()
    pattern = POSTAL_CODES.get(country)
    if pattern is None:
        served = ", ".join(sorted(POSTAL_CODES))
        return f"country {country!r} is not served (served: {served})"
    if not pattern.match(address.postal_code.upper()):
        return f"postal_code {address.postal_code!r} is not a valid postal code for {country}"
    if address.line1.upper() == REJECT_LINE1:
        return f"line1 {address.line1!r} is not a deliverable address"
    return None
