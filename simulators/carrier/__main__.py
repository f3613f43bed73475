"""Run the carrier simulator until interrupted.

    python -m simulators.carrier --port 8123 [--seed 7] [--faults '{"rate_503": 0.1}']

Options fall back to STEPSTREAM_CARRIER_HOST, _PORT, _SEED and _API_KEY. Once serving it
prints one line, ``carrier simulator listening on <url>``, for supervisors to wait for.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .faults import FaultSettings
from .responses import field_errors
from .server import DEFAULT_API_KEY, CarrierSimulator


class CarrierSettings(BaseSettings):
    """The simulator's settings from the environment."""

    model_config = SettingsConfigDict(env_prefix="STEPSTREAM_CARRIER_")

    host: str = "127.0.0.1"
    port: int = 8123
    seed: int | None = None
    api_key: str = DEFAULT_API_KEY


def _parser(settings: CarrierSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.carrier",
        description="A shipping carrier's REST API with run-time fault injection.",
    )
    parser.add_argument("--host", default=settings.host)
    parser.add_argument("--port", type=int, default=settings.port, help="0 picks a free port")
    parser.add_argument(
        "--seed", type=int, default=settings.seed, help="seed of fault settings that give none"
    )
    parser.add_argument(
        "--api-key", default=settings.api_key, help="the key clients send as a Bearer token"
    )
    parser.add_argument("--faults", help="initial fault settings as JSON")
    return parser


def _initial_faults(parser: argparse.ArgumentParser, text: str | None) -> FaultSettings | None:
    if text is None:
        return None
    try:
        return FaultSettings.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(f"{e['field']}: {e['message']}" for e in field_errors(exc))
        parser.error(f"--faults: {problems}")


async def _serve(simulator: CarrierSimulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await simulator.start()
    try:
        print(f"carrier simulator listening on {simulator.url}", flush=True)
        await stop.wait()
    finally:
        await simulator.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options, serve until SIGINT or SIGTERM, return the exit status."""
    try:
        settings = CarrierSettings()
    except ValidationError as exc:
        print(f"carrier simulator: bad environment setting: {exc}", file=sys.stderr)
        return 2
    parser = _parser(settings)
    args = parser.parse_args(argv)
    faults = _initial_faults(parser, args.faults)
    try:
        simulator = CarrierSimulator(
            host=args.host, port=args.port, seed=args.seed, api_key=args.api_key, faults=faults
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        asyncio.run(_serve(simulator))
    except OSError as exc:
        print(
            f"carrier simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
