"""One API request from headers to answer: auth, faults, idempotency, endpoint, store.

This part knows nothing of HTTP servers; ``web_app`` feeds it requests. Everything in
``handle`` runs without yielding to the event loop, so each request's check-then-act
on the state is atomic even when many requests are in flight.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from . import endpoints, versions
from .account import Account
from .endpoints import Call, Endpoint
from .errors import StripeError, api_error, authentication, unrecognized_url
from .faults import FaultInjector
from .forms import decode
from .idempotency import AnswerBook, StoredAnswer, check_key, fingerprint, scope_of
from .store import StateStore

log = logging.getLogger(__name__)

TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


@dataclass(frozen=True, slots=True)
class ApiRequest:
    method: str
    path: str
    query: str = ""
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ApiAnswer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")


_ROUTES = [(method, _compile(path), endpoint) for method, path, endpoint in endpoints.ROUTES]


def _route(method: str, path: str) -> tuple[Endpoint, dict[str, str]]:
    for route_method, pattern, endpoint in _ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            return endpoint, match.groupdict()
    raise unrecognized_url(method, path)


def _redacted(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:]


class StripeApi:
    """The stand-in's API: state, stored answers, faults, and the keys it accepts."""

    def __init__(
        self,
        *,
        account: Account,
        store: StateStore,
        faults: FaultInjector,
        api_keys: Collection[str] | None = None,
    ) -> None:
        self.account = account
        self.answers = AnswerBook()
        self.faults = faults
        self.store = store
        self._api_keys = frozenset(api_keys) if api_keys is not None else None

    def restore(self) -> None:
        """Load what the store kept from earlier runs."""
        snapshot = self.store.load()
        self.account.load(snapshot.records)
        self.answers.load(snapshot.answers)

    def reset(self) -> None:
        """Forget every object and stored answer, here and in the store."""
        self.account.clear()
        self.answers.clear()
        self.store.clear()

    def handle(self, request: ApiRequest) -> ApiAnswer:
        request_id = "req_" + self.account.token(14)
        version = request.headers.get("Stripe-Version") or versions.DEFAULT
        headers = {"Request-Id": request_id, "Stripe-Version": version}
        try:
            answer = self._handle(request, request_id, version)
        except StripeError as error:
            answer = ApiAnswer(error.status, json.dumps(error.body()), dict(error.headers))
            if error.status == 401:
                answer.headers["WWW-Authenticate"] = 'Basic realm="Stripe"'
        answer.headers = headers | answer.headers
        return answer

    def _handle(self, request: ApiRequest, request_id: str, version: str) -> ApiAnswer:
        endpoint, path_args = _route(request.method, request.path)
        api_key = self._authenticate(request.headers.get("Authorization", ""))
        fault = self.faults.draw()
        if fault is not None:
            raise fault
        params = decode(request.body if request.method == "POST" else request.query)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is None:
            return self._run(endpoint, Call(self.account, params, path_args, version), None)
        check_key(key)
        scope = scope_of(api_key)
        print_ = fingerprint(request.method, request.path, params)
        stored = self.answers.find(scope, key, print_, self.account.now())
        if stored is not None:
            return ApiAnswer(
                stored.status,
                stored.body,
                {
                    "Idempotency-Key": key,
                    "Idempotent-Replayed": "true",
                    "Original-Request": stored.request_id,
                },
            )
        pending = StoredAnswer(
            scope=scope,
            key=key,
            fingerprint=print_,
            status=0,
            body="",
            request_id=request_id,
            created=self.account.now(),
        )
        answer = self._run(endpoint, Call(self.account, params, path_args, version), pending)
        answer.headers |= {
            "Idempotency-Key": key,
            "Idempotent-Replayed": "false",
            "Original-Request": request_id,
        }
        return answer

    def _run(self, endpoint: Endpoint, call: Call, pending: StoredAnswer | None) -> ApiAnswer:
        replayable = True
        try:
            answer = ApiAnswer(200, json.dumps(endpoint(call)))
        except StripeError as error:
            answer = ApiAnswer(error.status, json.dumps(error.body()))
            replayable = error.replayable
        except Exception:
            log.exception("stand-in endpoint failed")
            failure = api_error()
            answer = ApiAnswer(failure.status, json.dumps(failure.body()))
            replayable = False
        keep = None
        if pending is not None and replayable:
            keep = pending.model_copy(update={"status": answer.status, "body": answer.body})
            self.answers.keep(keep)
        # Whatever the endpoint touched is saved even when it failed, so the store never
        # lags behind the state the next request will see.
        self.store.save(self.account.take_changes(), keep)
        return answer

    def _authenticate(self, header: str) -> str:
        key = _key_from(header)
        if not key:
            raise authentication(
                "You did not provide an API key. Send it in the Authorization header, "
                "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
            )
        accepted = key in self._api_keys if self._api_keys is not None else True
        if not key.startswith(TEST_KEY_PREFIXES) or not accepted:
            raise authentication(f"Invalid API Key provided: {_redacted(key)}")
        return key


def _key_from(header: str) -> str:
    scheme, _, credentials = header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer":
        return credentials
    if scheme.lower() == "basic":
        # curl -u sk_test_...: sends the key as the Basic user name with no password.
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[0]
    return ""
