"""The Step Functions API on the command line: names, arguments and JSON as the AWS CLI has them."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from stepstream.api.client import StepStreamClient
from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning

Call = Callable[[StepStreamClient, argparse.Namespace], Awaitable[dict[str, Any]]]


FILE_PREFIX = "file://"


def _read(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise argparse.ArgumentTypeError(f"cannot read {path}: not UTF-8 text") from None


def _value(text: str) -> str:
    """The argument itself, or with file://PATH the file's text, as the AWS CLI reads it.

    A document too large for a command line has no other way in.
    """
    return _read(text.removeprefix(FILE_PREFIX)) if text.startswith(FILE_PREFIX) else text


def _document(text: str) -> str:
    """A file's text, named by its path or, as the AWS CLI has it, by file://PATH."""
    return _read(text.removeprefix(FILE_PREFIX))


COMMANDS: dict[str, tuple[str, list[tuple[tuple[str, ...], dict[str, Any]]], Call]] = {
    "create-state-machine": (
        "register a definition and its resource bindings (a new version when they changed)",
        [
            (("name",), {}),
            (("--definition",), {"required": True, "type": _document}),
            (("--bindings",), {"required": True, "type": _document}),
        ],
        lambda c, a: c.create_state_machine(a.name, a.definition, a.bindings),
    ),
    "start-execution": (
        "start an execution; the same name and input again returns the same execution",
        [
            (("state_machine",), {}),
            (("--input",), {"default": "{}", "type": _value, "help": "JSON, or file://PATH"}),
            (("--name",), {}),
        ],
        lambda c, a: c.start_execution(a.state_machine, a.input, a.name),
    ),
    "describe-execution": (
        "an execution's status, input, output, error and cause",
        [(("execution_arn",), {})],
        lambda c, a: c.describe_execution(a.execution_arn),
    ),
    "get-execution-history": (
        "an execution's events in Step Functions' shape",
        [(("execution_arn",), {}), (("--reverse-order",), {"action": "store_true"})],
        lambda c, a: c.get_execution_history(a.execution_arn, reverse=a.reverse_order),
    ),
    "list-executions": (
        "executions, newest first, of one state machine and one status if given",
        [
            (("state_machine",), {"nargs": "?"}),
            (("--status",), {}),
            (("--max-results",), {"type": int, "default": 100}),
            (("--next-token",), {"help": "the nextToken of the previous page"}),
            (("--redrive-filter",), {"choices": ("REDRIVEN", "NOT_REDRIVEN")}),
        ],
        lambda c, a: c.list_executions(
            a.state_machine, a.status, a.max_results, a.next_token, a.redrive_filter
        ),
    ),
    "stop-execution": (
        "abort a running execution",
        [(("execution_arn",), {}), (("--error",), {}), (("--cause",), {})],
        lambda c, a: c.stop_execution(a.execution_arn, a.error, a.cause),
    ),
    "redrive-execution": (
        "resume a failed, timed-out or aborted execution from where it stopped",
        [
            (("execution_arn",), {}),
            (("--client-token",), {"help": "the same token again is the same redrive"}),
        ],
        lambda c, a: c.redrive_execution(a.execution_arn, a.client_token),
    ),
    "send-task-success": (
        "finish a waiting task with its output",
        [
            (("task_token",), {}),
            (
                ("--output", "--task-output"),
                {
                    "required": True,
                    "type": _value,
                    "dest": "output",
                    "help": "JSON, or file://PATH",
                },
            ),
        ],
        lambda c, a: c.send_task_success(a.task_token, a.output),
    ),
    "send-task-failure": (
        "fail a waiting task with an error name and cause",
        [
            (("task_token",), {}),
            (("--error",), {"default": ""}),
            (("--cause",), {"default": "", "type": _value, "help": "text, or file://PATH"}),
        ],
        lambda c, a: c.send_task_failure(a.task_token, a.error, a.cause),
    ),
    "send-task-heartbeat": (
        "tell a waiting task its worker is still alive",
        [(("task_token",), {})],
        lambda c, a: c.send_task_heartbeat(a.task_token),
    ),
}


def register(commands: Any) -> None:
    for name, (summary, arguments, call) in COMMANDS.items():
        parser = commands.add_parser(name, help=summary, description=summary)
        for flags, options in arguments:
            parser.add_argument(*flags, **options)
        parser.add_argument(
            "--data-dir",
            help="the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)",
        )
        parser.set_defaults(handler=lambda args, call=call: invoke(call, args))


def invoke(call: Call, args: argparse.Namespace) -> int:
    async def run() -> dict[str, Any]:
        async with connect(args.data_dir) as client:
            return await call(client, args)

    try:
        result = asyncio.run(run())
    except ApiError as exc:
        print(json.dumps(exc.as_json()), file=sys.stderr)
        return 1
    except StackNotRunning as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=_timestamp))
    return 0


def _timestamp(value: Any) -> str:
    """Dates print as the AWS CLI prints them, as ISO 8601 text."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
