"""The Step Functions API process: awsJson1.0 over HTTP, on 127.0.0.1.

python -m services.step_functions_api      (settings from STEPSTREAM_* variables)

``POST /`` with ``X-Amz-Target: AWSStepFunctions.<Operation>`` and a JSON body; the
answer is the operation's output shape, or ``{"__type", "message"}`` with HTTP 400 for
a refused request, as botocore's model for ``stepfunctions`` describes them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from services.common.running import ConfigurationError, run_service
from services.step_functions_api.settings import StepFunctionsApiSettings
from services.step_functions_api.sigv4 import KeyPair, check_signature
from stepstream.api import aws_model
from stepstream.api.aws_bindings import read_bindings_file
from stepstream.api.aws_operations import StepFunctionsApi
from stepstream.api.client import StepStreamClient
from stepstream.api.errors import ApiError
from stepstream.bindings import InvalidBindings
from stepstream.messaging.kafka import KafkaPublisher
from stepstream.messaging.topics import Topics
from stepstream.observability.health import PROCESS_CHECKS
from stepstream.store.factory import open_reader

log = logging.getLogger(__name__)

NAME = "step-functions-api"
CONTENT_TYPE = "application/x-amz-json-1.0"
# Errors that are the server's, not the caller's: answered 500 or 503 so clients retry.
_SERVER_ERRORS = {"ServiceUnavailable": 503, "InternalFailure": 500}

API_KEY: web.AppKey[StepFunctionsApi] = web.AppKey("api", StepFunctionsApi)
SETTINGS_KEY: web.AppKey[StepFunctionsApiSettings] = web.AppKey(
    "settings", StepFunctionsApiSettings
)


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": str(uuid.uuid4())},
    )


def _refusal(error: ApiError) -> web.Response:
    return _answer(
        {"__type": error.code, "message": error.message}, _SERVER_ERRORS.get(error.code, 400)
    )


def _operation(request: web.Request) -> str:
    target = request.headers.get("X-Amz-Target", "")
    service, _, operation = target.partition(".")
    if service != aws_model.TARGET_PREFIX or not operation:
        raise ApiError("UnknownOperationException", f"Unknown target: '{target}'")
    return operation


def _authenticate(request: web.Request, body: bytes) -> None:
    settings = request.app[SETTINGS_KEY]
    pair = settings.key_pair()
    if pair is None:
        return  # no credentials configured: any key is accepted, as a local endpoint does
    check_signature(
        method=request.method,
        url=str(request.url),
        headers=request.headers,
        body=body,
        keys=KeyPair(*pair),
        region=settings.aws_region,
        service=aws_model.service_model().signing_name,
    )


async def handle(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        _authenticate(request, body)
        operation = _operation(request)
        try:
            params = json.loads(body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError("SerializationException", "The request body is not JSON") from None
        except RecursionError:
            raise ApiError("SerializationException", "The request body nests too deeply") from None
        result = await request.app[API_KEY].call(operation, params)
        return _answer(aws_model.encode_output(operation, result))
    except ApiError as error:
        return _refusal(error)
    except Exception:
        log.exception("request failed")
        return _refusal(ApiError("InternalFailure", "The request failed for an unknown reason."))


async def not_found(request: web.Request) -> web.Response:
    return _refusal(ApiError("UnknownOperationException", "Send requests as POST /"))


def build_app(api: StepFunctionsApi, settings: StepFunctionsApiSettings) -> web.Application:
    app = web.Application(client_max_size=2 * 1024 * 1024)
    app[API_KEY] = api
    app[SETTINGS_KEY] = settings
    app.router.add_post("/", handle)
    app.router.add_route("*", "/{tail:.*}", not_found)
    return app


@asynccontextmanager
async def open_api(settings: StepFunctionsApiSettings) -> AsyncIterator[StepFunctionsApi]:
    """The library's API over the stack's store (read-only) and its broker."""
    try:
        configured = read_bindings_file(settings.bindings_file)
    except InvalidBindings as exc:
        raise ConfigurationError(str(exc)) from None
    async with open_reader(settings.store_url) as store:

        async def store_answers() -> None:
            await store.list_state_machines()

        # The publisher registers its own check (kafka); the process consumes nothing.
        unregister_store = PROCESS_CHECKS.register("store", store_answers)
        publisher = KafkaPublisher(settings=settings.kafka)
        await publisher.start()
        try:
            client = StepStreamClient(
                store=store,
                publisher=publisher,
                topics=Topics(settings.topic_prefix),
                bootstrap=settings.kafka.bootstrap_servers,
            )
            yield StepFunctionsApi(client, configured_bindings=configured)
        finally:
            await publisher.stop()
            unregister_store()


async def serve(settings: StepFunctionsApiSettings, stop: asyncio.Event) -> None:
    if settings.step_functions_require_signatures and settings.key_pair() is None:
        raise ConfigurationError(
            "STEPSTREAM_STEP_FUNCTIONS_REQUIRE_SIGNATURES is set, but not both of "
            "STEPSTREAM_AWS_ACCESS_KEY_ID and STEPSTREAM_AWS_SECRET_ACCESS_KEY"
        )
    async with open_api(settings) as api:
        runner = web.AppRunner(build_app(api, settings), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.step_functions_host, settings.step_functions_port)
        await site.start()
        log.info(
            "Step Functions API on http://%s:%d",
            settings.step_functions_host,
            settings.step_functions_port,
        )
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def main() -> int:
    return run_service(NAME, StepFunctionsApiSettings, serve)
