"""A chaos scenario as data: the orders to place, the faults on a time-line, the operator.

Scenarios are TOML files. Times are seconds from the first order, or a share of the
placing window (``"50%"``: half-way through placing the orders), so a scenario keeps its
shape when ``--orders`` or ``--rate`` change it. A fault has either ``at`` (a kill) or
``from`` and ``to`` (a window).

    name = "carrier-storm"
    hypothesis = "Retries absorb a storm of 429 and 503; nothing is lost or paid twice."
    orders = 1000
    rate = 25

    [[faults]]
    kind = "carrier"
    from = "10%"
    to = "60%"
    rate_429 = 0.3
    retry_after_seconds = 2
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_serializer,
    model_validator,
)

SHIPPED = Path(__file__).resolve().parent / "scenarios"

# The processes a scenario may kill or stall. The simulators stand for the outside world,
# whose records the audit reads: they may stall (a hung carrier) but not die.
KillTarget = Literal[
    "orchestrator",
    "charge-payment",
    "reserve-stock",
    "book-shipment",
    "emit-receipt",
    "review-desk",
    "order-view",
    "broker",
]
StallTarget = Literal[
    "orchestrator",
    "charge-payment",
    "reserve-stock",
    "book-shipment",
    "emit-receipt",
    "review-desk",
    "order-view",
    "carrier",
    "stripe",
]
KILLABLE: tuple[str, ...] = get_args(KillTarget)

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
_SHARE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Moment(_Strict):
    """A point on the time-line: seconds after the first order, or a share of the placing."""

    seconds: float | None = None
    share: float | None = None

    @model_serializer
    def _as_written(self) -> float | str:
        return f"{self.share * 100:g}%" if self.share is not None else float(self.seconds or 0)

    def resolve(self, placing_seconds: float) -> float:
        if self.share is not None:
            return self.share * placing_seconds
        assert self.seconds is not None
        return self.seconds


def _moment(value: Any) -> Any:
    if isinstance(value, Moment) or value is None:
        return value
    if isinstance(value, bool):
        raise ValueError("a time is seconds (a number) or a share of the placing ('50%')")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a time must not be negative")
        return Moment(seconds=float(value))
    if isinstance(value, str) and (match := _SHARE.match(value)):
        return Moment(share=float(match.group(1)) / 100)
    raise ValueError(f"{value!r} is not a time: give seconds (12.5) or a share ('40%')")


class _Timed(_Strict):
    at: Moment | None = None
    start: Moment | None = Field(default=None, alias="from")
    end: Moment | None = Field(default=None, alias="to")

    @model_validator(mode="before")
    @classmethod
    def _times(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            raw = {k: _moment(v) if k in ("at", "from", "to") else v for k, v in raw.items()}
        return raw

    def window(self, placing_seconds: float) -> tuple[float, float]:
        """(start, end) in seconds; a moment is a window of no length."""
        if self.at is not None:
            t = self.at.resolve(placing_seconds)
            return t, t
        assert self.start is not None and self.end is not None
        return self.start.resolve(placing_seconds), self.end.resolve(placing_seconds)


class _Window(_Timed):
    @model_validator(mode="after")
    def _needs_window(self) -> _Window:
        if self.start is None or self.end is None or self.at is not None:
            raise ValueError("this fault lasts a while: give 'from' and 'to', not 'at'")
        return self


class CarrierFault(_Window):
    """The carrier misbehaves for a while (see simulators/carrier/faults.py)."""

    kind: Literal["carrier"]
    rate_429: Rate = 0.0
    retry_after_seconds: Annotated[float, Field(ge=0.0, le=3600.0)] | None = None
    rate_503: Rate = 0.0
    rate_timeout: Rate = 0.0
    timeout_delay_seconds: Annotated[float, Field(gt=0.0, le=3600.0)] = 30.0
    rate_malformed: Rate = 0.0
    rate_reject: Rate = 0.0
    latency_ms: Annotated[float, Field(ge=0.0, le=60_000.0)] = 0.0
    down: bool = False


class StripeFault(_Window):
    """The Stripe stand-in misbehaves for a while (see simulators/stripe_api/faults.py)."""

    kind: Literal["stripe"]
    rate_limit_rate: Rate = 0.0
    error_rate: Rate = 0.0
    retry_after_seconds: Annotated[int, Field(ge=0, le=3600)] | None = None
    latency_ms: Annotated[int, Field(ge=0, le=60_000)] = 0


class KillFault(_Timed):
    """kill -9 of one process (or the broker, which comes back empty).

    With ``during``, the kill waits from ``at`` (up to ``wait_seconds``) until some order
    is compensating, or some ticket waits for a decision, so that it lands there.
    """

    kind: Literal["kill"]
    process: KillTarget
    during: Literal["compensation", "review"] | None = None
    wait_seconds: Annotated[float, Field(gt=0.0, le=600.0)] = 30.0

    @model_validator(mode="after")
    def _needs_moment(self) -> KillFault:
        if self.at is None or self.start is not None or self.end is not None:
            raise ValueError("a kill happens at one moment: give 'at', not 'from'/'to'")
        return self


class StallFault(_Window):
    """SIGSTOP of one process at 'from', SIGCONT at 'to'."""

    kind: Literal["stall"]
    process: StallTarget


Fault = Annotated[CarrierFault | StripeFault | KillFault | StallFault, Field(discriminator="kind")]


class Mix(_Strict):
    """Shares of the orders that are meant to fail in the business's own ways."""

    declined_card: Rate = 0.04
    rejected_address: Rate = 0.03
    rare_item: Rate = 0.01
    max_lines: Annotated[int, Field(ge=1, le=4)] = 3
    max_qty: Annotated[int, Field(ge=1, le=10)] = 3


class Operator(_Strict):
    """Someone at the review desk who answers each ticket after a while."""

    delay_seconds: Annotated[float, Field(ge=0.0, le=3600.0)] = 2.0
    retry: Annotated[float, Field(ge=0.0)] = 1.0
    compensate: Annotated[float, Field(ge=0.0)] = 1.0
    fail: Annotated[float, Field(ge=0.0)] = 1.0

    @model_validator(mode="after")
    def _some_decision(self) -> Operator:
        if self.retry + self.compensate + self.fail <= 0:
            raise ValueError("retry, compensate and fail weights must not all be 0")
        return self


class Scenario(_Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    description: str = ""
    hypothesis: str = ""
    orders: Annotated[int, Field(ge=1, le=1_000_000)] = 1000
    rate: Annotated[float, Field(gt=0.0, le=10_000.0)] = 20.0
    seed: int = 1
    settle_seconds: Annotated[float, Field(gt=0.0)] = 300.0
    mix: Mix = Field(default_factory=Mix)
    operator: Operator | None = None
    faults: list[Fault] = Field(default_factory=list)

    @property
    def placing_seconds(self) -> float:
        return self.orders / self.rate


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, line and field."""


def load_scenario(path: Path) -> Scenario:
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [_describe(path, text, error) for error in exc.errors()]
        raise ScenarioError("\n".join(problems)) from None


def _describe(path: Path, text: str, error: Any) -> str:
    loc = tuple(part for part in error["loc"] if not _is_variant(part))
    field = ".".join(str(part) for part in loc) or "(top level)"
    line = locate(text, loc)
    where = f"{path}:{line}" if line else str(path)
    return f"{where}: {field}: {error['msg']}"


def _is_variant(part: Any) -> bool:
    # pydantic puts the chosen member of a tagged union into the location.
    return part in ("carrier", "stripe", "kill", "stall")


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """The line (from 1) where the value at ``loc`` is written, as near as can be told."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if line.lstrip().startswith("[")]

    def block_end(begin: int) -> int:
        return next((i for i in headers if i > begin), len(lines))

    start, stop, i = -1, block_end(-1), 0
    while i < len(loc):
        part, following = str(loc[i]), loc[i + 1] if i + 1 < len(loc) else None
        if isinstance(following, int):  # an array of tables: [[part]] number `following`
            pattern = re.compile(rf"^\s*\[\[\s*{re.escape(part)}\s*\]\]")
            found = [j for j in headers if pattern.match(lines[j])]
            if following >= len(found):
                return None
            start, i = found[following], i + 2
            stop = block_end(start)
            continue
        pattern = re.compile(rf"^\s*\[\s*{re.escape(part)}\s*\]")
        tables = [j for j in headers if pattern.match(lines[j])]
        if tables and following is not None:
            start, i = tables[0], i + 1
            stop = block_end(start)
            continue
        assign = re.compile(rf"^\s*{re.escape(part)}\s*=")
        hit = next((j for j in range(start + 1, stop) if assign.match(lines[j])), None)
        if hit is not None:
            return hit + 1
        break
    return start + 1 if start >= 0 else None


def shipped() -> dict[str, Path]:
    """The scenarios that come with stepstream, by name."""
    return {path.stem: path for path in sorted(SHIPPED.glob("*.toml"))}


def find_scenario(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError(f"no scenario file at {path}")
        return path
    known = shipped()
    if name_or_path not in known:
        names = ", ".join(known) or "none"
        raise ScenarioError(f"no scenario named {name_or_path!r}; shipped scenarios: {names}")
    return known[name_or_path]
