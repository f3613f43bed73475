"""A state machine definition, parsed once into frozen, typed objects.

Parsing trusts its input: `stepstream.asl.validation` has already checked it and reported
every error. What is here is what the interpreter reads on every transition, so the
fields hold ready values (the ASL defaults applied, JSONPath's "$" where a path is absent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

QueryLanguage = Literal["JSONPath", "JSONata"]

# ASL distinguishes a field left out from a field set to null (ResultPath: null discards the
# result; left out, it replaces the input), so absence needs its own marker.
ABSENT: Any = type(
    "Absent", (), {"__repr__": lambda self: "ABSENT", "__bool__": lambda self: False}
)()


@dataclass(frozen=True, slots=True)
class Retrier:
    error_equals: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter_strategy: Literal["FULL", "NONE"] = "NONE"


@dataclass(frozen=True, slots=True)
class Catcher:
    error_equals: tuple[str, ...]
    next: str
    result_path: str | None = "$"
    assign: Any = ABSENT
    output: Any = ABSENT


@dataclass(frozen=True, slots=True, kw_only=True)
class StateDef:
    """The fields every state may carry; each state type adds its own."""

    name: str
    type: str
    query_language: QueryLanguage = "JSONPath"
    comment: str | None = None
    next: str | None = None
    end: bool = False
    input_path: str | None = "$"
    output_path: str | None = "$"
    parameters: Any = ABSENT
    result_selector: Any = ABSENT
    result_path: str | None = "$"
    arguments: Any = ABSENT
    output: Any = ABSENT
    assign: Any = ABSENT
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()

    @property
    def is_jsonata(self) -> bool:
        return self.query_language == "JSONata"

    def child_scope(self, index: int) -> Scope:
        """The scope branch or iteration `index` runs; only Parallel and Map have any."""
        raise TypeError(f"a {self.type} state runs no branches or iterations")


@dataclass(frozen=True, slots=True)
class Scope:
    """A set of states with a starting point: the machine itself, a branch, a Map processor."""

    start_at: str
    states: dict[str, StateDef]
    # Whether any of its states opens branches or iterations (a Parallel or a Map).
    nests: bool = True


@dataclass(frozen=True, slots=True)
class StateMachineDef:
    scope: Scope
    query_language: QueryLanguage = "JSONPath"
    timeout_seconds: int | None = None
    comment: str | None = None
    version: str | None = None
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_retrier(raw: dict[str, Any]) -> Retrier:
    return Retrier(
        error_equals=tuple(raw["ErrorEquals"]),
        interval_seconds=raw.get("IntervalSeconds", 1),
        max_attempts=raw.get("MaxAttempts", 3),
        backoff_rate=float(raw.get("BackoffRate", 2.0)),
        max_delay_seconds=raw.get("MaxDelaySeconds"),
        jitter_strategy=raw.get("JitterStrategy", "NONE"),
    )


def parse_catcher(raw: dict[str, Any]) -> Catcher:
    return Catcher(
        error_equals=tuple(raw["ErrorEquals"]),
        next=raw["Next"],
        result_path=raw.get("ResultPath", "$"),
        assign=raw.get("Assign", ABSENT),
        output=raw.get("Output", ABSENT),
    )


def common_fields(name: str, raw: dict[str, Any], language: QueryLanguage) -> dict[str, Any]:
    """The keyword arguments shared by every state type, read from the state's JSON."""
    return {
        "name": name,
        "type": raw["Type"],
        "query_language": language,
        "comment": raw.get("Comment"),
        "next": raw.get("Next"),
        "end": bool(raw.get("End", False)),
        "input_path": raw.get("InputPath", "$"),
        "output_path": raw.get("OutputPath", "$"),
        "parameters": raw.get("Parameters", ABSENT),
        "result_selector": raw.get("ResultSelector", ABSENT),
        "result_path": raw.get("ResultPath", "$"),
        "arguments": raw.get("Arguments", ABSENT),
        "output": raw.get("Output", ABSENT),
        "assign": raw.get("Assign", ABSENT),
        "retry": tuple(parse_retrier(r) for r in raw.get("Retry", ())),
        "catch": tuple(parse_catcher(c) for c in raw.get("Catch", ())),
    }


def parse_scope(raw: dict[str, Any], language: QueryLanguage) -> Scope:
    # Imported here because each state module parses its own nested scopes through this one.
    from stepstream.asl.states import parse_state

    states = {
        name: parse_state(name, body, body.get("QueryLanguage", language))
        for name, body in raw["States"].items()
    }
    nests = any(state.type in ("Parallel", "Map") for state in states.values())
    return Scope(start_at=raw["StartAt"], states=states, nests=nests)


def parse_definition(raw: dict[str, Any]) -> StateMachineDef:
    """Build the typed definition from a validated JSON document."""
    language: QueryLanguage = raw.get("QueryLanguage", "JSONPath")
    return StateMachineDef(
        scope=parse_scope(raw, language),
        query_language=language,
        timeout_seconds=raw.get("TimeoutSeconds"),
        comment=raw.get("Comment"),
        version=raw.get("Version"),
        source=raw,
    )
