"""The shape of an audit's answer: per invariant, whether it holds and the counter-examples."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    order_ids: list[str]
    evidence: str

    def as_json(self) -> dict[str, Any]:
        return {"orderIds": self.order_ids, "evidence": self.evidence}


@dataclass
class InvariantResult:
    key: str
    title: str
    checked: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.violations

    def violate(self, order_ids: list[str], evidence: str) -> None:
        self.violations.append(Violation(sorted(order_ids), evidence))

    def as_json(self, limit: int = 50) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "holds": self.holds,
            "checked": self.checked,
            "violationCount": len(self.violations),
            "counterExamples": [v.as_json() for v in self.violations[:limit]],
        }
