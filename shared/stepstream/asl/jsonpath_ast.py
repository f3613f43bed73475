"""The shapes a parsed ASL path takes: frozen steps, and the conditions inside filters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

RootKind = Literal["data", "context", "variable", "current"]


@dataclass(frozen=True, slots=True)
class Child:
    name: str


@dataclass(frozen=True, slots=True)
class Children:
    """``['a','b']``: as the last step Jayway merges the keys into one object."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Index:
    index: int


@dataclass(frozen=True, slots=True)
class Indexes:
    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Slice:
    start: int | None
    end: int | None


@dataclass(frozen=True, slots=True)
class Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class Filter:
    condition: Condition


@dataclass(frozen=True, slots=True)
class Descendants:
    """``..`` followed by ``target``: the target applied to every node at any depth."""

    target: Step


@dataclass(frozen=True, slots=True)
class Function:
    name: str


Step: TypeAlias = (
    Child | Children | Index | Indexes | Slice | Wildcard | Filter | Descendants | Function
)


@dataclass(frozen=True, slots=True)
class Path:
    """A parsed path.

    ``keys`` is set when every step is a plain child or index: the engine's common case,
    evaluated with a tight loop instead of the general walker.
    """

    text: str
    root: RootKind
    variable: str | None
    steps: tuple[Step, ...]
    definite: bool
    reference: bool
    keys: tuple[str | int, ...] | None


@dataclass(frozen=True, slots=True)
class Constant:
    value: Any


@dataclass(frozen=True, slots=True)
class Regex:
    pattern: re.Pattern[str]


Operand: TypeAlias = Path | Constant | Regex


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Operand
    operator: str
    right: Operand


@dataclass(frozen=True, slots=True)
class Exists:
    path: Path


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


@dataclass(frozen=True, slots=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True, slots=True)
class Or:
    left: Condition
    right: Condition


Condition: TypeAlias = Comparison | Exists | Not | And | Or | Constant
