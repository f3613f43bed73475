"""What the Step Functions API specs share: a stack of their own, the clients, machines."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.validate import ParamValidator

from apps.stack.up import Stack, StackOptions

T = TypeVar("T")
REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/any"
CALLBACK_TOPIC = "sfn-api-callbacks"
QUEUE_TOKEN = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"

PASS = {
    "StartAt": "Greet",
    "States": {
        "Greet": {"Type": "Pass", "Result": "hello", "ResultPath": "$.greeting", "End": True}
    },
}
FAIL = {
    "StartAt": "Boom",
    "States": {"Boom": {"Type": "Fail", "Error": "Boom", "Cause": "on purpose"}},
}
# Waits for a callback with its task token, which the history shows in its parameters.
WAITER = {
    "StartAt": "Ask",
    "States": {
        "Ask": {
            "Type": "Task",
            "Resource": QUEUE_TOKEN,
            "Parameters": {
                "QueueUrl": "https://sqs/q",
                "MessageBody": {"token.$": "$$.Task.Token"},
            },
            "HeartbeatSeconds": 3600,
            "End": True,
        }
    },
}
CALLBACK_BINDINGS = {"resources": {QUEUE_TOKEN: {"topic": CALLBACK_TOPIC}}}
# A Lambda function no service here serves: its execution runs until stopped.
UNSERVED_LAMBDA = {
    "StartAt": "Call",
    "States": {
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "nobody-serves-this", "Payload.$": "$"},
            "End": True,
        }
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def eventually(check: Callable[[], T | None], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@contextmanager
def running_stack(folder: Path) -> Iterator[str]:
    """The orchestrator and the Step Functions API on an embedded broker; the API's URL.

    The stack runs on an event loop of its own thread, so the specs drive it with the
    blocking AWS clients as a user would.
    """
    port = free_port()
    options = StackOptions(
        data_dir=folder,
        services=[("step-functions-api", "services.step_functions_api")],
        env={"STEPSTREAM_STEP_FUNCTIONS_PORT": str(port)},
        log_to_files=True,
    )
    stack = Stack(options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(stack.start(), loop).result(120)
    url = f"http://127.0.0.1:{port}"
    try:
        client = sfn(url)
        eventually(lambda: _answers(client))
        yield url
    finally:
        asyncio.run_coroutine_threadsafe(stack.stop(), loop).result(120)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def _answers(client: Any) -> bool:
    try:
        client.list_state_machines()
    except Exception:
        return False
    return True


def sfn(url: str, *, key: str = "AKIDANYTHING", secret: str = "any-secret", **config: Any) -> Any:
    """A boto3 Step Functions client for the endpoint, every answer checked (see below)."""
    client = boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, **config),
    )
    client.meta.events.register("after-call.sfn", check_answer)
    return client


def check_answer(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
    """Every answer in botocore's shape: an output shape, or a 400 with __type and message."""
    if http_response.status_code == 200:
        body = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        report = ParamValidator().validate(body, model.output_shape)
        assert not report.has_errors(), f"{model.name}: {report.generate_report()}"
        return
    error = json.loads(http_response.content)
    assert http_response.status_code == 400, (model.name, http_response.status_code, error)
    assert set(error) == {"__type", "message"} and error["message"], error


def token_of(client: Any, execution_arn: str) -> str:
    """The task token of the execution's waiting task, from its TaskScheduled event."""

    def scheduled() -> str | None:
        events = client.get_execution_history(executionArn=execution_arn)["events"]
        for event in events:
            if event["type"] == "TaskScheduled":
                parameters = json.loads(event["taskScheduledEventDetails"]["parameters"])
                token: str = parameters["MessageBody"]["token"]
                return token
        return None

    return eventually(scheduled)


def status_of(client: Any, execution_arn: str, wanted: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        described: dict[str, Any] = client.describe_execution(executionArn=execution_arn)
        return described if described["status"] == wanted else None

    return eventually(reached)
