"""Run the Stripe stand-in until interrupted.

    python -m simulators.stripe_api --port 12111 [--state stripe.sqlite3]
        [--api-key sk_test_...] [--faults '{"rate_limit_rate": 0.1, "seed": 7}']

Options fall back to STEPSTREAM_STRIPE_STANDIN_HOST, _PORT, _STATE_PATH and _API_KEYS (a
comma-separated list). Once serving it prints one line,
``stripe stand-in listening on <url>``, for supervisors to wait for.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .faults import FaultConfig
from .server import StripeStandIn


class StandInSettings(BaseSettings):
    """The stand-in's settings from the environment."""

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_STRIPE_STANDIN_")

    host: str = "127.0.0.1"
    port: int = 12111
    state_path: Path | None = None
    api_keys: str = ""


def _parser(settings: StandInSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.stripe_api",
        description="A local stand-in for the part of Stripe's API stepstream uses.",
    )
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port, help="0 picks a free port")
    parser.add_argument(
        "--state",
        type=Path,
        default=settings.state_path,
        help="SQLite file keeping objects, ledger and idempotency keys across restarts "
        "(default: memory only)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        help="a secret key to accept (repeatable; default: any sk_test_ key)",
    )
    parser.add_argument("--faults", help="initial fault configuration as JSON")
    return parser


def _initial_faults(parser: argparse.ArgumentParser, text: str | None) -> FaultConfig | None:
    if text is None:
        return None
    try:
        return FaultConfig.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or 'config'}: {item['msg']}"
            for item in error.errors()
        )
        parser.error(f"--faults: {problems}")


def _api_keys(args: argparse.Namespace, settings: StandInSettings) -> list[str] | None:
    keys: list[str] = args.api_keys or [k.strip() for k in settings.api_keys.split(",") if k]
    return keys or None


async def _serve(standin: StripeStandIn) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await standin.start()
    try:
        print(f"stripe stand-in listening on {standin.url}", flush=True)
        await stop.wait()
    finally:
        await standin.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, serve until SIGINT or SIGTERM, return the exit status."""
    try:
        settings = StandInSettings()
    except ValidationError as error:
        print(f"stripe stand-in: bad environment setting: {error}", file=sys.stderr)
        return 2
    parser = _parser(settings)
    args = parser.parse_args(argv)
    try:
        standin = StripeStandIn(
            host=args.host,
            port=args.port,
            api_keys=_api_keys(args, settings),
            state_path=args.state,
            faults=_initial_faults(parser, args.faults),
        )
    except ValueError as error:
        parser.error(str(error))
    try:
        asyncio.run(_serve(standin))
    except OSError as error:
        print(
            f"stripe stand-in: cannot listen on {args.host}:{args.port}: {error}",
            file=sys.stderr,
        )
        return 1
    except sqlite3.Error as error:
        print(f"stripe stand-in: cannot use state file {args.state}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
