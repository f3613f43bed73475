"""The payment gateway over the official ``stripe`` SDK, against Stripe or its local stand-in.

Stripe's errors become the service's named errors here, so nothing past this module
knows the SDK: card errors are CardDeclined (with the decline code in the cause), 429s
PaymentRateLimited (with Stripe's Retry-After, for the definition's retry to honour),
unreachable or failing servers PaymentServiceUnavailable, and every
other refusal PaymentRequestRefused, which the definition sends to review.

The SDK talks through its aiohttp client on one session of our own, kept for the life of
the process. Its default, httpx, cost about four times the CPU per call under load: the
httpcore pool polls every idle connection's socket on each request
(``AsyncConnectionPool._assign_requests_to_connections``), so a busy service paid for all
its idle connections on every call (py-spy, benchmarks/fulfilment.py).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
import stripe
from aiohttp.helpers import get_env_proxy_for_url
from yarl import URL

from services.charge_payment.errors import (
    CardDeclined,
    PaymentRateLimited,
    PaymentRequestRefused,
    PaymentServiceUnavailable,
)
from services.charge_payment.payments import ChargeOrder, Intent, Refund
from services.common.errors import ServiceError
from services.common.retry_after import retry_after_of


class StripeGateway:
    """``PaymentGateway`` through a ``stripe.StripeClient``; each call one API request."""

    def __init__(
        self, client: stripe.StripeClient, *, session: aiohttp.ClientSession | None = None
    ) -> None:
        self._client = client
        self._session = session

    @classmethod
    def connect(
        cls,
        *,
        api_key: str,
        api_base: str | None,
        timeout_seconds: float,
        max_network_retries: int = 0,
    ) -> StripeGateway:
        """A gateway with an SDK client of its own; ``api_base`` None means Stripe itself.

        Call it with an event loop running: the session belongs to that loop.
        """
        timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        # The CA bundle the SDK ships and uses on its own connections.
        tls = ssl.create_default_context(cafile=stripe.ca_bundle_path)
        proxy, proxy_auth = environment_proxy(api_base or stripe.DEFAULT_API_BASE)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=tls),
            timeout=timeout,
            proxy=proxy,
            proxy_auth=proxy_auth,
        )
        client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=max_network_retries,
            http_client=stripe.AIOHTTPClient(timeout=timeout, session=session),
        )
        return cls(client, session=session)

    async def close(self) -> None:
        """Close the HTTP connections of a gateway made by ``connect``."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def create_intent(self, order: ChargeOrder, *, idempotency_key: str) -> Intent:
        with _named_errors():
            intent = await self._client.v1.payment_intents.create_async(
                {
                    "amount": order.amount,
                    "currency": order.currency,
                    # Cards only, never a redirect: nobody is there to be redirected.
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "description": f"Order {order.order_id}",
                    "metadata": {"order_id": order.order_id},
                },
                {"idempotency_key": idempotency_key},
            )
        return _intent(intent)

    async def confirm(self, intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
        with _named_errors():
            # Not expanded: a fresh capture has nothing refunded, and building the nested
            # Charge was a third of the SDK's work per charge.
            intent = await self._client.v1.payment_intents.confirm_async(
                intent_id,
                {"payment_method": payment_method},
                {"idempotency_key": idempotency_key},
            )
        return _intent(intent)

    async def retrieve(self, intent_id: str) -> Intent:
        with _named_errors():
            intent = await self._client.v1.payment_intents.retrieve_async(
                intent_id, {"expand": ["latest_charge"]}
            )
        return _intent(intent)

    async def refund(self, intent_id: str, *, idempotency_key: str) -> Refund:
        with _named_errors():
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": intent_id}, {"idempotency_key": idempotency_key}
            )
        return Refund(id=refund.id, amount=refund.amount)

    async def cancel(self, intent_id: str, *, idempotency_key: str) -> Intent:
        with _named_errors():
            intent = await self._client.v1.payment_intents.cancel_async(
                intent_id,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": idempotency_key},
            )
        return _intent(intent)


def environment_proxy(url: str) -> tuple[URL | None, aiohttp.BasicAuth | None]:
    """The proxy HTTP(S)_PROXY and NO_PROXY name for ``url``, if any, looked up once.

    The SDK's httpx client honoured them, so a payment service behind an egress proxy
    keeps working. aiohttp's ``trust_env`` would look them up again, and read ~/.netrc,
    in a thread on every request: about 0.2 ms a call.
    """
    try:
        return get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None


def _intent(intent: stripe.PaymentIntent) -> Intent:
    return Intent(
        id=intent.id,
        status=intent.status,
        amount=intent.amount,
        currency=intent.currency,
        amount_received=intent.amount_received or 0,
        amount_refunded=_refunded_of_captured(intent.latest_charge),
    )


def _refunded_of_captured(charge: str | stripe.Charge | None) -> int:
    """How much of the captured money was refunded, from the expanded latest charge.

    Stripe counts the uncaptured part of a partial capture as refunded on the charge;
    that part was never taken, so it is left out.
    """
    if not isinstance(charge, stripe.Charge) or not charge.captured:
        return 0
    never_taken = charge.amount - charge.amount_captured
    return max(0, charge.amount_refunded - never_taken)


@contextmanager
def _named_errors() -> Iterator[None]:
    try:
        yield
    except stripe.StripeError as error:
        raise translate(error) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        # The SDK's aiohttp client reads the body outside its own error handling, so a
        # connection lost or timed out mid-answer arrives here as aiohttp's error.
        raise PaymentServiceUnavailable(
            f"Stripe's answer did not arrive whole: {type(error).__name__} {error}"
        ) from error


def translate(error: stripe.StripeError) -> ServiceError:
    """The named error a Stripe SDK error stands for."""
    message = error.user_message or str(error)
    status = error.http_status
    if isinstance(error, stripe.CardError):
        return CardDeclined(f"{message} ({_decline_detail(error)})")
    if isinstance(error, stripe.RateLimitError):
        retry_after = retry_after_of(error.headers or {})
        wait = "" if retry_after is None else f"; Retry-After {retry_after:g} s"
        return PaymentRateLimited(
            f"Stripe answered 429: {message}{wait}", retry_after_seconds=retry_after
        )
    if isinstance(error, stripe.APIConnectionError):
        return PaymentServiceUnavailable(f"Stripe could not be reached: {message}")
    if isinstance(error, stripe.APIError) or (status is not None and status >= 500):
        return PaymentServiceUnavailable(f"Stripe answered {status}: {message}")
    code = f" [{error.code}]" if error.code else ""
    return PaymentRequestRefused(f"Stripe refused the request ({status}){code}: {message}")


def _decline_detail(error: stripe.CardError) -> str:
    decline_code = error.error.decline_code if error.error is not None else None
    return f"decline_code={decline_code or error.code or 'unknown'}"
