"""Transitions within each scope: targets exist, every state is reached, every path can end."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stepstream.asl.validation.context import Run, Scope
from stepstream.asl.validation.fields import FLOW_TYPES, GUARDED_TYPES, STATE_TYPES
from stepstream.asl.validation.site import Segment, render

Edge = tuple[tuple[Segment, ...], str]  # where the transition is written, and its target


def check_graph(run: Run, scope: Scope) -> None:
    """Check one scope's transitions, reachability from StartAt and ways to an end."""
    edges = {name: list(_edges(body)) for name, body in scope.states.items()}
    dangling: set[str] = set()
    for name, outgoing in edges.items():
        for where, target in outgoing:
            if target not in scope.states:
                dangling.add(name)
                scope.site.state_named(name).at(*where).report(_missing(run, target))
    if scope.start is None or scope.start not in scope.states:
        return  # without a start every state looks unreachable; StartAt is already reported
    successors = {
        name: [target for _, target in outgoing if target in scope.states]
        for name, outgoing in edges.items()
    }
    # A state whose own transitions are already reported might lead anywhere or end for
    # all we know: judging the rest of the graph around it would only repeat that mistake.
    unsure = {name for name, body in scope.states.items() if not _moves_well(body)} | dangling
    reached = _closure([scope.start], successors)
    if not reached & unsure:
        for name, body in scope.states.items():
            if _well_formed(body) and name not in reached:
                scope.site.state_named(name).report(
                    f"state {name!r} is never reached from StartAt {scope.start!r}: no Next,"
                    " Default, Choices or Catch leads to it"
                )
    _check_ends(scope, successors, reached, unsure)


def _check_ends(
    scope: Scope, successors: dict[str, list[str]], reached: set[str], unsure: set[str]
) -> None:
    ends = [name for name, body in scope.states.items() if _is_end(body)]
    if not ends and not unsure:
        scope.site.report(
            "no state ends this scope: at least one state must be a Succeed or Fail state"
            " or have End: true"
        )
        return
    predecessors: dict[str, list[str]] = {name: [] for name in scope.states}
    for name, targets in successors.items():
        for target in targets:
            predecessors[target].append(name)
    can_end = _closure([*ends, *unsure], predecessors)
    for name in scope.states:
        if name in reached and name not in can_end:
            scope.site.state_named(name).report(
                f"no path from state {name!r} reaches an end (a Succeed or Fail state, or"
                " End: true); an execution there would loop forever"
            )


def _edges(body: Any) -> Iterable[Edge]:
    if not _well_formed(body):
        return
    state_type = body["Type"]
    if state_type in FLOW_TYPES and _is_name(body.get("Next")):
        yield ("Next",), body["Next"]
    if state_type == "Choice":
        yield from _list_edges(body, "Choices")
        if _is_name(body.get("Default")):
            yield ("Default",), body["Default"]
    if state_type in GUARDED_TYPES:
        yield from _list_edges(body, "Catch")


def _list_edges(body: dict[str, Any], field: str) -> Iterable[Edge]:
    items = body.get(field)
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, dict) and _is_name(item.get("Next")):
            yield (field, index, "Next"), item["Next"]


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _well_formed(body: Any) -> bool:
    return (
        isinstance(body, dict) and isinstance(body.get("Type"), str) and body["Type"] in STATE_TYPES
    )


def _moves_well(body: Any) -> bool:
    """Whether a state is well formed and, if it moves on by itself, has Next or End: true."""
    if not _well_formed(body):
        return False
    if body["Type"] == "Choice":
        rules = body.get("Choices")
        return (
            isinstance(rules, list)
            and bool(rules)
            and all(isinstance(rule, dict) and _is_name(rule.get("Next")) for rule in rules)
        )
    if body["Type"] not in FLOW_TYPES:
        return True
    return _is_name(body.get("Next")) != (body.get("End") is True)


def _is_end(body: Any) -> bool:
    if not _well_formed(body):
        return False
    return body["Type"] in ("Succeed", "Fail") or (
        body["Type"] in FLOW_TYPES and body.get("End") is True
    )


def _closure(seeds: list[str], links: dict[str, list[str]]) -> set[str]:
    seen = set(seeds)
    pending = list(seeds)
    while pending:
        for following in links.get(pending.pop(), []):
            if following not in seen:
                seen.add(following)
                pending.append(following)
    return seen


def _missing(run: Run, target: str) -> str:
    elsewhere = run.names.get(target)
    if elsewhere is None:
        return f"state {target!r} does not exist"
    return (
        f"state {target!r} is not in this scope (it is at {render(elsewhere)}); a transition"
        " cannot cross into or out of a Parallel branch or Map processor"
    )
