"""The `stepstream` command: one sub-command per verb, each module adding its own."""

from __future__ import annotations

import argparse
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
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
