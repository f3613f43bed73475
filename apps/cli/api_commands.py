"""The Step Functions API on the command line: names, arguments and JSON as the AWS CLI has them.

Each verb builds the operation's AWS input from its arguments and runs it through the
same ``StepFunctionsApi`` the HTTP endpoint serves, so both check and refuse alike.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from stepstream.api.aws_bindings import BINDINGS_FILE_SETTING, read_bindings_file
from stepstream.api.aws_operations import DEFAULT_ROLE_ARN, StepFunctionsApi
from stepstream.api.connect import connect
from stepstream.api.errors import ApiError
from stepstream.api.stack_file import StackNotRunning
from stepstream.bindings import InvalidBindings

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


Call = Callable[[StepFunctionsApi], Awaitable[dict[str, Any]]]


def _json_list(text: str) -> Any:
    """A JSON argument (inline or file://PATH), such as --tags, as the AWS CLI takes it."""
    try:
        return json.loads(_value(text))
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc}") from None


def _drop_none(**params: Any) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


# verb -> (summary, arguments, operation, its AWS input from the parsed arguments)
Request = Callable[[argparse.Namespace], dict[str, Any]]
COMMANDS: dict[str, tuple[str, list[tuple[tuple[str, ...], dict[str, Any]]], str, Request]] = {
    "create-state-machine": (
        "register a definition; --bindings, a tag or the defaults say where its tasks run",
        [
            (("name",), {}),
            (("--definition",), {"required": True, "type": _document}),
            (("--bindings",), {"type": _document, "help": "a bindings file (see README)"}),
            (("--tags",), {"type": _json_list, "help": "JSON, or file://PATH"}),
        ],
        "CreateStateMachine",
        lambda a: _drop_none(
            name=a.name, definition=a.definition, roleArn=DEFAULT_ROLE_ARN, tags=a.tags
        ),
    ),
    "update-state-machine": (
        "a new version of a state machine; running executions keep theirs",
        [
            (("state_machine",), {}),
            (("--definition",), {"type": _document}),
            (("--bindings",), {"type": _document, "help": "a bindings file (see README)"}),
        ],
        "UpdateStateMachine",
        lambda a: _drop_none(stateMachineArn=a.state_machine, definition=a.definition),
    ),
    "describe-state-machine": (
        "a state machine's latest version (or the version its ARN names)",
        [(("state_machine",), {})],
        "DescribeStateMachine",
        lambda a: {"stateMachineArn": a.state_machine},
    ),
    "list-state-machines": (
        "the state machines, by name",
        [
            (("--max-results",), {"type": int}),
            (("--next-token",), {"help": "the nextToken of the previous page"}),
        ],
        "ListStateMachines",
        lambda a: _drop_none(maxResults=a.max_results, nextToken=a.next_token),
    ),
    "delete-state-machine": (
        "delete a state machine; its running executions go on",
        [(("state_machine",), {})],
        "DeleteStateMachine",
        lambda a: {"stateMachineArn": a.state_machine},
    ),
    "describe-state-machine-for-execution": (
        "the version of its state machine an execution runs",
        [(("execution_arn",), {})],
        "DescribeStateMachineForExecution",
        lambda a: {"executionArn": a.execution_arn},
    ),
    "validate-state-machine-definition": (
        "check a definition as the API does, without registering it",
        [(("--definition",), {"required": True, "type": _document})],
        "ValidateStateMachineDefinition",
        lambda a: {"definition": a.definition},
    ),
    "start-execution": (
        "start an execution; the same name and input again returns the same execution",
        [
            (("state_machine",), {}),
            (("--input",), {"default": "{}", "type": _value, "help": "JSON, or file://PATH"}),
            (("--name",), {}),
        ],
        "StartExecution",
        lambda a: _drop_none(stateMachineArn=a.state_machine, input=a.input, name=a.name),
    ),
    "describe-execution": (
        "an execution's status, input, output, error and cause",
        [(("execution_arn",), {})],
        "DescribeExecution",
        lambda a: {"executionArn": a.execution_arn},
    ),
    "get-execution-history": (
        "an execution's events in Step Functions' shape",
        [
            (("execution_arn",), {}),
            (("--reverse-order",), {"action": "store_true"}),
            (("--max-results",), {"type": int}),
            (("--next-token",), {"help": "the nextToken of the previous page"}),
            (("--no-include-execution-data",), {"action": "store_true"}),
        ],
        "GetExecutionHistory",
        lambda a: _drop_none(
            executionArn=a.execution_arn,
            reverseOrder=a.reverse_order,
            maxResults=a.max_results,
            nextToken=a.next_token,
            includeExecutionData=not a.no_include_execution_data,
        ),
    ),
    "list-executions": (
        "executions, newest first, of one state machine and one status if given",
        [
            (("state_machine",), {"nargs": "?"}),
            (("--status", "--status-filter"), {"dest": "status"}),
            (("--max-results",), {"type": int, "default": 100}),
            (("--next-token",), {"help": "the nextToken of the previous page"}),
            (("--redrive-filter",), {"choices": ("REDRIVEN", "NOT_REDRIVEN")}),
        ],
        "ListExecutions",
        lambda a: _drop_none(
            stateMachineArn=a.state_machine,
            statusFilter=a.status,
            maxResults=a.max_results,
            nextToken=a.next_token,
            redriveFilter=a.redrive_filter,
        ),
    ),
    "stop-execution": (
        "abort a running execution",
        [(("execution_arn",), {}), (("--error",), {}), (("--cause",), {})],
        "StopExecution",
        lambda a: _drop_none(executionArn=a.execution_arn, error=a.error, cause=a.cause),
    ),
    "redrive-execution": (
        "resume a failed, timed-out or aborted execution from where it stopped",
        [
            (("execution_arn",), {}),
            (("--client-token",), {"help": "the same token again is the same redrive"}),
        ],
        "RedriveExecution",
        lambda a: _drop_none(executionArn=a.execution_arn, clientToken=a.client_token),
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
        "SendTaskSuccess",
        lambda a: {"taskToken": a.task_token, "output": a.output},
    ),
    "send-task-failure": (
        "fail a waiting task with an error name and cause",
        [
            (("task_token",), {}),
            (("--error",), {"default": ""}),
            (("--cause",), {"default": "", "type": _value, "help": "text, or file://PATH"}),
        ],
        "SendTaskFailure",
        lambda a: {"taskToken": a.task_token, "error": a.error, "cause": a.cause},
    ),
    "send-task-heartbeat": (
        "tell a waiting task its worker is still alive",
        [(("task_token",), {})],
        "SendTaskHeartbeat",
        lambda a: {"taskToken": a.task_token},
    ),
}


def register(commands: Any) -> None:
    for name, (summary, arguments, operation, request) in COMMANDS.items():
        parser = commands.add_parser(name, help=summary, description=summary)
        for flags, options in arguments:
            parser.add_argument(*flags, **options)
        parser.add_argument(
            "--data-dir",
            help="the stack's data folder (default $STEPSTREAM_DATA_DIR or ./.stepstream)",
        )
        parser.set_defaults(
            handler=lambda args, operation=operation, request=request: invoke(
                operation, request(args), args
            )
        )


def invoke(operation: str, params: dict[str, Any], args: argparse.Namespace) -> int:
    """Run one API operation on the stack, as the HTTP API runs it; print its answer."""
    return run_api(lambda api: api.call(operation, params), args)


def run_api(call: Call, args: argparse.Namespace) -> int:
    """Run ``call`` on the stack's API; print its answer, or the refusal on stderr."""

    async def run() -> dict[str, Any]:
        setting = os.environ.get(BINDINGS_FILE_SETTING)
        configured = read_bindings_file(Path(setting) if setting else None)
        async with connect(args.data_dir) as client:
            api = StepFunctionsApi(
                client,
                configured_bindings=configured,
                explicit_bindings=getattr(args, "bindings", None),
            )
            return await call(api)

    try:
        result = asyncio.run(run())
    except ApiError as exc:
        print(json.dumps(exc.as_json()), file=sys.stderr)
        return 1
    except (StackNotRunning, InvalidBindings) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, default=_timestamp))
    return 0


def _timestamp(value: Any) -> str:
    """Dates print as the AWS CLI prints them, as ISO 8601 text."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
