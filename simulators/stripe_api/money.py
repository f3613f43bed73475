"""Amounts and currencies: the limits Stripe puts on a charge and how it writes amounts.

Amounts are integers in the currency's smallest unit (cents for usd), as in Stripe's API.
"""

from __future__ import annotations

import re

from .errors import StripeError, invalid

MAX_AMOUNT = 99_999_999

# Currencies with no minor unit: an amount of 500 jpy is 500 yen.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)

# Stripe's minimum charge amounts for the currencies the pipeline is likely to use; other
# currencies are held only to a positive amount.
MINIMUM_CHARGE = {
    "usd": 50,
    "eur": 50,
    "gbp": 30,
    "cad": 50,
    "aud": 50,
    "chf": 50,
    "nzd": 50,
    "sek": 300,
    "nok": 300,
    "dkk": 250,
    "jpy": 50,
}

_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "$", "aud": "$"}
_CURRENCY = re.compile(r"^[a-z]{3}$")


def currency(value: str) -> str:
    """A three-letter ISO currency code, lower-cased as Stripe stores it."""
    lowered = value.lower()
    if not _CURRENCY.match(lowered):
        raise invalid(
            f"Invalid currency: {value}. A three-letter ISO currency code is expected.",
            param="currency",
        )
    return lowered


def display(amount: int, currency: str) -> str:
    """An amount as a person reads it: ``$0.50``, ``¥500``, ``12.00 chf``."""
    units = f"{amount}" if currency in ZERO_DECIMAL else f"{amount / 100:,.2f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{units}" if symbol else f"{units} {currency}"


def check_charge_amount(amount: int, currency: str) -> None:
    """Refuse an amount Stripe would not charge in ``currency``."""
    minimum = MINIMUM_CHARGE.get(currency, 1)
    if amount < minimum:
        raise StripeError(
            400,
            f"Amount must be at least {display(minimum, currency)} {currency}",
            code="amount_too_small",
            param="amount",
            replayable=False,
        )
    if amount > MAX_AMOUNT:
        raise StripeError(
            400,
            f"Amount must be no more than {display(MAX_AMOUNT, currency)}",
            code="amount_too_large",
            param="amount",
            replayable=False,
        )
