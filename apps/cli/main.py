"""The `stepstream` command: one sub-command per verb, each module adding its own."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence

from apps.cli import (
    api_commands,
    chaos_commands,
    dead_letter_commands,
    demo_commands,
    desk_commands,
    engine_commands,
    orders_commands,
    redrive_commands,
    review_commands,
    stack_commands,
)
from stepstream.api.errors import ApiError
from stepstream.messaging.bus import BrokerUnreachable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stepstream",
        description="Order fulfilment as an event-sourced saga over Amazon States Language.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    engine_commands.register(commands)
    stack_commands.register(commands)
    api_commands.register(commands)
    redrive_commands.register(commands)
    demo_commands.register(commands)
    orders_commands.register(commands)
    review_commands.register(commands)
    desk_commands.register(commands)
    dead_letter_commands.register(commands)
    chaos_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # Without logging set up (every verb but `up`), the broker client's complaints would
    # go to stderr through logging's last resort, ahead of the refusal that says the same.
    logging.getLogger("aiokafka").addHandler(logging.NullHandler())
    try:
        result: int = args.handler(args)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
    except (ApiError, BrokerUnreachable) as exc:
        # Any verb may meet these once the stack is away: one line, as the API verbs
        # answer a refusal, and no traceback.
        print(json.dumps(_refusal(exc)), file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`stepstream orders list | head`): nothing is wrong here.
        # Output still buffered would fail again at exit, so stdout goes nowhere now.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + signal.SIGPIPE
    return result


def _refusal(exc: ApiError | BrokerUnreachable) -> dict[str, str]:
    if isinstance(exc, ApiError):
        return exc.as_json()
    return {"error": type(exc).__name__, "message": str(exc)}


if __name__ == "__main__":
    sys.exit(main())
