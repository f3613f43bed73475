"""A layered, top-to-bottom placement of a graph's states.

Each state goes one layer below the deepest state that leads to it (transitions that
loop back, such as a retry after review, are left out of that count and drawn as
back edges). A Parallel or Map is a box holding its branches side by side, each
branch laid out the same way, so nesting costs nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stepstream.graph.shape import Edge, EdgeKind, Graph, Node

NODE_WIDTH = 180
NODE_HEIGHT = 36
GAP_X = 28
GAP_Y = 48
PAD = 14
HEADER = 26


@dataclass(frozen=True)
class Box:
    name: str
    type: str
    x: float
    y: float
    width: float
    height: float
    container: bool = False

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def right(self) -> float:
        return self.x + self.width


@dataclass
class Placed:
    """Boxes by state name (nested ones included) and every edge, in one frame."""

    width: float
    height: float
    boxes: dict[str, Box] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)


def layout(graph: Graph) -> Placed:
    """Place ``graph``'s states; the origin is the top-left corner."""
    inner = {node.name: _inner(node) for node in graph.nodes}
    sizes = {name: _size(placed) for name, placed in inner.items()}
    layers = _layers(graph)
    rows: list[list[str]] = [[] for _ in range(max(layers.values(), default=-1) + 1)]
    for node in graph.nodes:  # the definition's order within a layer
        rows[layers[node.name]].append(node.name)
    _order_by_predecessors(rows, graph)
    width = max((_row_width(row, sizes) for row in rows), default=0.0)
    placed = Placed(width=width, height=0.0, edges=list(graph.edges))
    y = 0.0
    types = {node.name: node.type for node in graph.nodes}
    for row in rows:
        x = (width - _row_width(row, sizes)) / 2
        for name in row:
            w, h = sizes[name]
            placed.boxes[name] = Box(name, types[name], x, y, w, h, container=bool(inner[name]))
            _embed(placed, inner[name], x, y)
            x += w + GAP_X
        y += max(sizes[name][1] for name in row) + GAP_Y
    placed.height = max(0.0, y - GAP_Y)
    return placed


def _order_by_predecessors(rows: list[list[str]], graph: Graph) -> None:
    """Put each state under the states that lead to it (their mean position in the rows
    above), which uncrosses most edges; ties keep the definition's order."""
    position: dict[str, float] = {}
    incoming: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.kind is not EdgeKind.RETRY:
            incoming.setdefault(edge.target, []).append(edge.source)
    for row in rows:
        weights = {}
        for index, name in enumerate(row):
            above = [position[s] for s in incoming.get(name, []) if s in position]
            weights[name] = sum(above) / len(above) if above else index - (len(row) - 1) / 2
        row.sort(key=weights.__getitem__)
        for index, name in enumerate(row):
            position[name] = index - (len(row) - 1) / 2


def _inner(node: Node) -> list[Placed]:
    return [layout(child) for child in node.children]


def _size(branches: list[Placed]) -> tuple[float, float]:
    if not branches:
        return (NODE_WIDTH, NODE_HEIGHT)
    width = sum(b.width for b in branches) + GAP_X * (len(branches) - 1) + 2 * PAD
    height = max(b.height for b in branches) + HEADER + PAD
    return (max(width, NODE_WIDTH), height)


def _embed(placed: Placed, branches: list[Placed], x: float, y: float) -> None:
    """Copy the branches' boxes and edges into ``placed``, inside the box at (x, y)."""
    offset_x = x + PAD
    for branch in branches:
        for name, box in branch.boxes.items():
            placed.boxes[name] = Box(
                box.name,
                box.type,
                box.x + offset_x,
                box.y + y + HEADER,
                box.width,
                box.height,
                box.container,
            )
        placed.edges.extend(branch.edges)
        offset_x += branch.width + GAP_X


def _row_width(row: list[str], sizes: dict[str, tuple[float, float]]) -> float:
    return sum(sizes[name][0] for name in row) + GAP_X * max(0, len(row) - 1)


def _layers(graph: Graph) -> dict[str, int]:
    """Longest-path layers over the transitions that do not loop back."""
    names = [node.name for node in graph.nodes]
    known = set(names)
    successors: dict[str, list[str]] = {name: [] for name in names}
    for edge in graph.edges:
        if edge.kind is not EdgeKind.RETRY and edge.source in known and edge.target in known:
            successors[edge.source].append(edge.target)
    order, back = _depth_first(graph.start_at if graph.start_at in known else None, successors)
    for name in names:  # unreachable states still get drawn, after the rest
        if name not in order:
            more, more_back = _depth_first(name, successors, seen=set(order))
            order += more
            back |= more_back
    layer = dict.fromkeys(names, 0)
    # Reverse post-order is a topological order of the forward edges.
    for name in order:
        for target in successors[name]:
            if (name, target) not in back:
                layer[target] = max(layer[target], layer[name] + 1)
    return layer


def _depth_first(
    start: str | None, successors: dict[str, list[str]], seen: set[str] | None = None
) -> tuple[list[str], set[tuple[str, str]]]:
    """(reverse post-order from ``start``, the edges that point back up the walk)."""
    if start is None:
        return [], set()
    seen = set() if seen is None else set(seen)
    finished: list[str] = []
    back: set[tuple[str, str]] = set()
    on_path: set[str] = set()
    # Iterative, so a long chain of states cannot exhaust the recursion limit.
    stack: list[tuple[str, int]] = [(start, 0)]
    seen.add(start)
    on_path.add(start)
    while stack:
        name, index = stack.pop()
        targets = successors[name]
        if index < len(targets):
            stack.append((name, index + 1))
            target = targets[index]
            if target in on_path:
                back.add((name, target))
            elif target not in seen:
                seen.add(target)
                on_path.add(target)
                stack.append((target, 0))
        else:
            on_path.discard(name)
            finished.append(name)
    return finished[::-1], back
