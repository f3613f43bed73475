"""Checking a request's AWS Signature Version 4 with botocore's own signer.

The expected signature is what botocore would compute for the same request with the
configured secret (the headers the client says it signed, its date and scope), so the
canonical request is botocore's, not a copy of it. Refusals use AWS's names and words.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stepstream.api.errors import ApiError

_ALGORITHM = "AWS4-HMAC-SHA256"
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
# How far a signature's date may be from now, as AWS allows, so a captured request
# cannot be replayed later.
MAX_SKEW = timedelta(minutes=15)
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]+)$"
)


@dataclass(frozen=True)
class KeyPair:
    access_key_id: str
    secret_access_key: str


def _missing(message: str) -> ApiError:
    return ApiError("MissingAuthenticationTokenException", message)


def check_signature(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    keys: KeyPair,
    region: str | None,
    service: str,
    now: datetime | None = None,
) -> None:
    """Refuse, as AWS does, a request not signed with ``keys`` for ``service``."""
    headers = {name.lower(): value for name, value in headers.items()}
    authorization = headers.get("authorization")
    if authorization is None:
        raise _missing("Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization.strip())
    if match is None:
        raise ApiError(
            "IncompleteSignatureException",
            f"Authorization header requires '{_ALGORITHM}' with Credential, SignedHeaders "
            f"and Signature parameters. Authorization={authorization}",
        )
    scope = match["credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise ApiError("IncompleteSignatureException", "Credential is not a SigV4 scope")
    access_key, date, signed_region, signed_service, _ = scope
    if access_key != keys.access_key_id:
        raise ApiError(
            "UnrecognizedClientException", "The security token included in the request is invalid."
        )
    amz_date = headers.get("x-amz-date")
    if amz_date is None or not amz_date.startswith(date):
        raise ApiError("IncompleteSignatureException", "X-Amz-Date is missing or outside the scope")
    _check_fresh(amz_date, now or datetime.now(UTC))
    if signed_service != service or (region is not None and signed_region != region):
        raise ApiError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region and service '{service}'.",
        )
    signed = match["signed"].split(";")
    request = AWSRequest(
        method=method,
        url=url,
        headers={name: headers.get(name, "") for name in signed},
        data=body,
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        Credentials(keys.access_key_id, keys.secret_access_key), signed_service, signed_region
    )
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise ApiError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.",
        )


def _check_fresh(amz_date: str, now: datetime) -> None:
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(
            "IncompleteSignatureException", f"X-Amz-Date {amz_date!r} is not a date"
        ) from None
    if abs(now - signed_at) > MAX_SKEW:
        raise ApiError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime(_AMZ_DATE)} ({now.strftime(_AMZ_DATE)} - 15 min.)",
        )
