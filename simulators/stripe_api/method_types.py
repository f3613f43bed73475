"""Which payment method types a new PaymentIntent accepts, by the rules of its API version.

This matters more than it looks: with dynamic payment methods (the default since
2023-08-16) Stripe refuses to confirm without a ``return_url``, and from 2026-09-30 it
refuses ``payment_method_types`` outright. Code written against the stand-in has to pass
what Stripe needs, so the stand-in holds callers to the same rules. The ways to pay by
card with no ``return_url`` are ``automatic_payment_methods[enabled]=true`` with
``automatic_payment_methods[allow_redirects]=never`` (every version since 2023-08-16),
``allowed_payment_method_types[]=card`` (from 2026-07-29), or
``payment_method_types[]=card`` (before 2026-09-30).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from . import versions
from .errors import invalid
from .params import ParamReader

SERVED = frozenset({"card"})


@dataclass(frozen=True, slots=True)
class MethodTypes:
    payment_method_types: list[str]
    automatic: dict[str, Any] | None = None
    allowed: list[str] | None = None
    excluded: list[str] | None = None


def _unknown(name: str) -> NoReturn:
    raise invalid(f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def _served(kinds: list[str], param: str) -> None:
    for kind in kinds:
        if kind not in SERVED:
            raise invalid(
                f"The payment method type {kind!r} is not served by this stand-in; only card is.",
                param=param,
            )


def _automatic(reader: ParamReader) -> dict[str, Any] | None:
    """``automatic_payment_methods`` as sent; None when absent, {} when disabled."""
    nested = reader.nested("automatic_payment_methods")
    if nested is None:
        return None
    enabled = nested.boolean("enabled")
    redirects = nested.choice("allow_redirects", ("always", "never"))
    nested.finish()
    if enabled is None:
        raise invalid(
            "Missing required param: automatic_payment_methods[enabled].",
            code="parameter_missing",
            param="automatic_payment_methods[enabled]",
        )
    return {"allow_redirects": redirects or "always", "enabled": True} if enabled else {}


def read(reader: ParamReader, version: str) -> MethodTypes:
    """Read the create parameters that choose payment method types, and check them."""
    types = reader.strings("payment_method_types")
    allowed = reader.strings("allowed_payment_method_types")
    excluded = reader.strings("excluded_payment_method_types")
    automatic = _automatic(reader)
    if types and versions.is_since(version, versions.METHOD_TYPES_READ_ONLY):
        raise invalid(
            f"`payment_method_types` can no longer be set on API version {version}. Use "
            "`allowed_payment_method_types` or `automatic_payment_methods` instead.",
            code="payment_method_types_no_longer_supported",
            param="payment_method_types",
        )
    if allowed and not versions.is_since(version, versions.ALLOWED_METHOD_TYPES):
        _unknown("allowed_payment_method_types")
    if excluded and not versions.is_since(version, versions.EXCLUDED_METHOD_TYPES):
        _unknown("excluded_payment_method_types")
    given = [
        name
        for name, value in (
            ("payment_method_types", types),
            ("allowed_payment_method_types", allowed),
            ("automatic_payment_methods", automatic),
            ("excluded_payment_method_types", excluded),
        )
        if value
    ]
    # Only dynamic payment methods may be narrowed by exclusions; the others stand alone.
    if (types or allowed) and len(given) > 1:
        raise invalid(
            "You may only specify one of these parameters: " + ", ".join(given),
            param=given[-1],
        )
    _served(types, "payment_method_types")
    if allowed:
        # Stripe filters allowed types down to those that can work; here that is card.
        if not SERVED & set(allowed):
            _served(allowed, "allowed_payment_method_types")
        return MethodTypes(["card"], allowed=allowed)
    if types:
        return MethodTypes(types)
    dynamic_by_default = versions.is_since(version, versions.AUTOMATIC_METHODS_BY_DEFAULT)
    if automatic is None and dynamic_by_default:
        automatic = {"allow_redirects": "always", "enabled": True}
    return MethodTypes(["card"], automatic=automatic or None, excluded=excluded or None)
