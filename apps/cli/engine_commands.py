"""`stepstream validate` and `stepstream run`: the engine on its own, in-process."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stepstream.asl.limits import execution_input_problem
from stepstream.asl.local import LocalRunner, load_functions
from stepstream.asl.machine import load_machine
from stepstream.asl.validation import InvalidDefinition

EXIT_INVALID = 2


def register(commands: Any) -> None:
    validate = commands.add_parser(
        "validate", help="check an ASL definition; exit 2 with every error"
    )
    validate.add_argument("definition", help="the definition's JSON file")
    validate.set_defaults(handler=_validate)

    run = commands.add_parser("run", help="run one execution in-process and print its outcome")
    run.add_argument("definition", help="the definition's JSON file")
    run.add_argument("--input", default="{}", help="the execution's input, as JSON")
    run.add_argument(
        "--functions", help="a Python file whose top-level functions serve as Lambda functions"
    )
    run.add_argument(
        "--virtual-time", action="store_true", help="waits and back-offs take no real time"
    )
    run.add_argument(
        "--history", action="store_true", help="print the history, one event per line, first"
    )
    run.add_argument(
        "--seed", type=int, default=None, help="seed for jitter, UUIDs and random numbers"
    )
    run.set_defaults(handler=_run)


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_INVALID


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
        return None


def _validate(args: argparse.Namespace) -> int:
    text = _read(args.definition)
    if text is None:
        return EXIT_INVALID
    try:
        load_machine(text)
    except InvalidDefinition as exc:
        return _fail(f"{args.definition}: invalid definition\n{exc}")
    print(f"{args.definition}: valid")
    return 0


def _run(args: argparse.Namespace) -> int:
    text = _read(args.definition)
    if text is None:
        return EXIT_INVALID
    try:
        machine = load_machine(text)
    except InvalidDefinition as exc:
        return _fail(f"{args.definition}: invalid definition\n{exc}")
    try:
        execution_input = json.loads(args.input)
    except json.JSONDecodeError as exc:
        return _fail(f"--input is not JSON: {exc}")
    except RecursionError:
        return _fail("--input nests too deeply to be read")
    if (too_large := execution_input_problem(execution_input)) is not None:
        return _fail(f"InvalidExecutionInput: {too_large}")
    try:
        functions = load_functions(args.functions) if args.functions else {}
    except Exception as exc:
        return _fail(f"--functions {args.functions}: cannot load: {type(exc).__name__}: {exc}")
    runner = LocalRunner(
        machine, functions=functions, virtual_time=args.virtual_time, seed=args.seed
    )
    runner.run(execution_input)
    if args.history:
        for event in runner.history:
            print(json.dumps(event.to_aws()))
    print(json.dumps(runner.result()))
    return 0
