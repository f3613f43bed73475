"""The nodes and edges of an ASL definition, nested as the definition nests them.

Every state is a node; a Parallel holds one sub-graph per branch and a Map one for its
item processor. Edges are typed so that a drawing can tell a plain transition from a
Choice rule, a Catch and a Retry (a Retry is a loop on its own state).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EdgeKind(StrEnum):
    NEXT = "next"
    CHOICE = "choice"
    DEFAULT = "default"
    CATCH = "catch"
    RETRY = "retry"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    end: bool = False
    # A Parallel's branches, or a Map's item processor (one sub-graph).
    children: tuple[Graph, ...] = ()


@dataclass(frozen=True)
class Graph:
    start_at: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...] = field(default=())

    def node(self, name: str) -> Node | None:
        for node in self.walk():
            if node.name == name:
                return node
        return None

    def walk(self) -> list[Node]:
        """Every node, nested ones included."""
        found: list[Node] = []
        for node in self.nodes:
            found.append(node)
            for child in node.children:
                found.extend(child.walk())
        return found


class NotADefinition(ValueError):
    """The document has no states to draw; the message says what is missing."""


def read_graph(definition: dict[str, Any]) -> Graph:
    """The graph of ``definition`` (a parsed ASL document)."""
    states = definition.get("States")
    start_at = definition.get("StartAt")
    if not isinstance(states, dict) or not isinstance(start_at, str):
        raise NotADefinition("an ASL definition needs StartAt and States")
    nodes: list[Node] = []
    edges: list[Edge] = []
    for name, state in states.items():
        if not isinstance(state, dict):
            continue
        nodes.append(_node(name, state))
        edges.extend(_edges(name, state))
    return Graph(start_at=start_at, nodes=tuple(nodes), edges=tuple(edges))


def _node(name: str, state: dict[str, Any]) -> Node:
    kind = str(state.get("Type", "?"))
    children: list[Graph] = []
    if kind == "Parallel":
        children = [read_graph(b) for b in state.get("Branches", []) if isinstance(b, dict)]
    elif kind == "Map":
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if isinstance(processor, dict):
            children = [read_graph(processor)]
    end = bool(state.get("End")) or kind in ("Succeed", "Fail")
    return Node(name=name, type=kind, end=end, children=tuple(children))


def _edges(name: str, state: dict[str, Any]) -> list[Edge]:
    edges: list[Edge] = []
    if isinstance(state.get("Next"), str):
        edges.append(Edge(name, state["Next"], EdgeKind.NEXT))
    for rule in state.get("Choices", []) or []:
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            edges.append(Edge(name, rule["Next"], EdgeKind.CHOICE, _rule_label(rule)))
    if isinstance(state.get("Default"), str):
        edges.append(Edge(name, state["Default"], EdgeKind.DEFAULT, "default"))
    for catcher in state.get("Catch", []) or []:
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            errors = ", ".join(str(e) for e in catcher.get("ErrorEquals", []))
            edges.append(Edge(name, catcher["Next"], EdgeKind.CATCH, errors))
    for retrier in state.get("Retry", []) or []:
        if isinstance(retrier, dict):
            errors = ", ".join(str(e) for e in retrier.get("ErrorEquals", []))
            attempts = retrier.get("MaxAttempts", 3)
            edges.append(Edge(name, name, EdgeKind.RETRY, f"{errors} (max {attempts})"))
    return edges


def _rule_label(rule: dict[str, Any]) -> str:
    """A short reading of a Choice rule: its first comparison."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"])
    for combinator in ("And", "Or"):
        if isinstance(rule.get(combinator), list):
            parts = [_rule_label(r) for r in rule[combinator] if isinstance(r, dict)]
            return f" {combinator.lower()} ".join(parts)
    if isinstance(rule.get("Not"), dict):
        return "not " + _rule_label(rule["Not"])
    variable = str(rule.get("Variable", ""))
    for key, value in rule.items():
        if key not in ("Variable", "Next", "Comment"):
            return f"{variable} {key} {value}"
    return variable
