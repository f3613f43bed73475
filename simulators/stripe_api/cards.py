"""Stripe's test payment methods and what happens when each is charged.

These are the ``pm_card_*`` names from Stripe's testing guide. Each one stands for a
test card number; the brand, last four digits and funding are those of that number, and
the declining ones fail with the same ``code`` / ``decline_code`` Stripe gives.
"""

from __future__ import annotations

from dataclasses import dataclass

_DECLINED = "Your card was declined."


@dataclass(frozen=True, slots=True)
class Decline:
    """How a charge on a declining test card fails."""

    code: str
    decline_code: str
    message: str
    param: str | None = None


@dataclass(frozen=True, slots=True)
class CardProfile:
    """The card a test payment method stands for, and how charging it ends."""

    brand: str
    last4: str
    funding: str = "credit"
    decline: Decline | None = None


def _declined(decline_code: str, message: str = _DECLINED) -> Decline:
    return Decline("card_declined", decline_code, message)


_GENERIC = _declined("generic_decline")
_INSUFFICIENT = _declined("insufficient_funds", "Your card has insufficient funds.")
_LOST = _declined("lost_card")
_STOLEN = _declined("stolen_card")
_FRAUDULENT = _declined("fraudulent")
_VELOCITY = _declined(
    "card_velocity_exceeded",
    "Your card was declined for making repeated attempts too frequently or exceeding "
    "its amount limit.",
)
_EXPIRED = Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
_INCORRECT_CVC = Decline(
    "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
)
_PROCESSING = Decline(
    "processing_error",
    "processing_error",
    "An error occurred while processing your card. Try again in a little bit.",
)

TEST_PAYMENT_METHODS: dict[str, CardProfile] = {
    "pm_card_visa": CardProfile("visa", "4242"),
    "pm_card_visa_debit": CardProfile("visa", "5556", "debit"),
    "pm_card_mastercard": CardProfile("mastercard", "4444"),
    "pm_card_mastercard_debit": CardProfile("mastercard", "8210", "debit"),
    "pm_card_mastercard_prepaid": CardProfile("mastercard", "5100", "prepaid"),
    "pm_card_amex": CardProfile("amex", "0005"),
    "pm_card_discover": CardProfile("discover", "1117"),
    "pm_card_diners": CardProfile("diners", "0004"),
    "pm_card_jcb": CardProfile("jcb", "0505"),
    "pm_card_unionpay": CardProfile("unionpay", "0005"),
    "pm_card_chargeDeclined": CardProfile("visa", "0002", decline=_GENERIC),
    "pm_card_visa_chargeDeclined": CardProfile("visa", "0002", decline=_GENERIC),
    "pm_card_chargeDeclinedInsufficientFunds": CardProfile("visa", "9995", decline=_INSUFFICIENT),
    "pm_card_visa_chargeDeclinedInsufficientFunds": CardProfile(
        "visa", "9995", decline=_INSUFFICIENT
    ),
    "pm_card_chargeDeclinedLostCard": CardProfile("visa", "9987", decline=_LOST),
    "pm_card_visa_chargeDeclinedLostCard": CardProfile("visa", "9987", decline=_LOST),
    "pm_card_chargeDeclinedStolenCard": CardProfile("visa", "9979", decline=_STOLEN),
    "pm_card_visa_chargeDeclinedStolenCard": CardProfile("visa", "9979", decline=_STOLEN),
    "pm_card_chargeDeclinedFraudulent": CardProfile("visa", "0019", decline=_FRAUDULENT),
    "pm_card_visa_chargeDeclinedFraudulent": CardProfile("visa", "0019", decline=_FRAUDULENT),
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": CardProfile(
        "visa", "6975", decline=_VELOCITY
    ),
    "pm_card_chargeDeclinedExpiredCard": CardProfile("visa", "0069", decline=_EXPIRED),
    "pm_card_chargeDeclinedIncorrectCvc": CardProfile("visa", "0127", decline=_INCORRECT_CVC),
    "pm_card_chargeDeclinedProcessingError": CardProfile("visa", "0119", decline=_PROCESSING),
}
