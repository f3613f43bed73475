"""With credentials configured, the endpoint serves only requests signed (SigV4) with them,
and refuses the others as AWS does; with none configured, any key is served."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from pydantic import SecretStr

from services.common.running import ConfigurationError
from services.step_functions_api.app import build_app, serve
from services.step_functions_api.settings import StepFunctionsApiSettings
from services.step_functions_api.sigv4 import KeyPair, check_signature
from stepstream.api.aws_operations import StepFunctionsApi
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.messaging.fake import FakeBus
from stepstream.messaging.topics import Topics
from stepstream.store.memory import InMemoryStore
from tests.step_functions_api.support import PASS, free_port, sfn

KEY, SECRET = "AKIDSTEPSTREAMTEST", "the-configured-secret"


@contextmanager
def serving(settings: StepFunctionsApiSettings) -> Iterator[str]:
    """The endpoint over an in-memory store, on a loop of its own thread; its URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> web.AppRunner:
        store = InMemoryStore()
        await store.open()
        client = StepStreamClient(
            store=store, publisher=FakeBus().publisher(), topics=Topics("sigv4")
        )
        runner = web.AppRunner(build_app(StepFunctionsApi(client), settings))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", settings.step_functions_port).start()
        return runner

    runner = asyncio.run_coroutine_threadsafe(start(), loop).result(30)
    try:
        yield f"http://127.0.0.1:{settings.step_functions_port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    settings = StepFunctionsApiSettings(
        step_functions_port=free_port(),
        aws_access_key_id=KEY,
        aws_secret_access_key=SecretStr(SECRET),
    )
    with serving(settings) as url:
        yield url


@pytest.fixture(scope="module")
def open_endpoint() -> Iterator[str]:
    with serving(StepFunctionsApiSettings(step_functions_port=free_port())) as url:
        yield url


def validate(client: Any) -> dict[str, Any]:
    answer: dict[str, Any] = client.validate_state_machine_definition(definition=json.dumps(PASS))
    return answer


def refusal(client: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        validate(client)
    error = raised.value.response["Error"]
    return error["Code"], error["Message"]


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_a_request_signed_with_the_configured_key_is_served(guarded: str) -> None:
    assert validate(sfn(guarded, key=KEY, secret=SECRET))["result"] == "OK"
    assert sfn(guarded, key=KEY, secret=SECRET).list_state_machines()["stateMachines"] == []


def test_another_key_is_refused_as_aws_refuses_it(guarded: str) -> None:
    code, message = refusal(sfn(guarded, key="AKIDSOMEONEELSE", secret=SECRET))
    assert code == "UnrecognizedClientException"
    assert message == "The security token included in the request is invalid."


def test_a_bad_signature_is_refused_as_aws_refuses_it(guarded: str) -> None:
    code, message = refusal(sfn(guarded, key=KEY, secret="not-the-secret"))
    assert code == "InvalidSignatureException"
    assert message.startswith("The request signature we calculated does not match")


def test_an_unsigned_request_is_refused(guarded: str) -> None:
    status, body = post(
        guarded,
        b"{}",
        {
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        },
    )
    assert (status, body["__type"]) == (400, "MissingAuthenticationTokenException")


def test_without_credentials_configured_any_key_is_served(open_endpoint: str) -> None:
    assert validate(sfn(open_endpoint, key="AKIDWHATEVER", secret="whatever"))["result"] == "OK"


def test_what_is_not_the_protocol_is_a_client_error_not_a_500(open_endpoint: str) -> None:
    json_headers = {"Content-Type": "application/x-amz-json-1.0"}
    unknown = {**json_headers, "X-Amz-Target": "AWSStepFunctions.MakeCoffee"}
    assert post(open_endpoint, b"{}", unknown) == (
        400,
        {
            "__type": "UnknownOperationException",
            "message": "Operation MakeCoffee is not supported.",
        },
    )
    other_service = {**json_headers, "X-Amz-Target": "DynamoDB_20120810.ListTables"}
    status, body = post(open_endpoint, b"{}", other_service)
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    listing = {**json_headers, "X-Amz-Target": "AWSStepFunctions.ListStateMachines"}
    status, body = post(open_endpoint, b"{not json", listing)
    assert (status, body["__type"]) == (400, "SerializationException")
    deep = b'{"x": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"  # past what Python's parser reads
    assert post(open_endpoint, deep, listing) == (
        400,
        {"__type": "SerializationException", "message": "The request body nests too deeply"},
    )
    status, body = post(open_endpoint, b'{"maxResults": "ten"}', listing)
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "Member must be of type integer" in body["message"]


def signed(body: bytes) -> AWSRequest:
    """A request as botocore signs it for the endpoint, now."""
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8083/",
        data=body,
        headers={
            "Host": "127.0.0.1:8083",
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AWSStepFunctions.ListStateMachines",
        },
    )
    SigV4Auth(Credentials(KEY, SECRET), "states", "eu-west-1").add_auth(request)
    return request


def check(request: AWSRequest, **changes: Any) -> None:
    check_signature(
        method="POST",
        url=request.url,
        headers=dict(request.headers.items()),
        body=request.body,
        keys=KeyPair(KEY, SECRET),
        region=changes.pop("region", None),
        service="states",
        **changes,
    )


def test_a_signature_is_good_for_fifteen_minutes_and_its_own_region() -> None:
    request = signed(b"{}")
    check(request)
    check(request, region="eu-west-1")
    with pytest.raises(ApiError, match="Signature expired") as late:
        check(request, now=datetime.now(UTC) + timedelta(minutes=16))
    assert late.value.code == "InvalidSignatureException"
    with pytest.raises(ApiError, match="region") as elsewhere:
        check(request, region="us-east-1")
    assert elsewhere.value.code == "InvalidSignatureException"


def test_a_changed_body_breaks_the_signature() -> None:
    request = signed(b'{"maxResults": 1}')
    request.data = b'{"maxResults": 2}'
    with pytest.raises(ApiError) as refused:
        check(request)
    assert refused.value.code == "InvalidSignatureException"


def test_a_deployment_that_requires_signatures_will_not_start_without_a_key_pair() -> None:
    # Compose passes a variable the host leaves unset as an empty one.
    settings = StepFunctionsApiSettings(
        step_functions_require_signatures=True, aws_access_key_id="", aws_secret_access_key=""
    )
    assert settings.key_pair() is None
    with pytest.raises(ConfigurationError, match="STEPSTREAM_AWS_SECRET_ACCESS_KEY"):
        asyncio.run(serve(settings, asyncio.Event()))
