"""The laid-out graph as an inline SVG document, styled by classes.

A state's classes say what happened to it (``taken``, ``failed``, ``active``,
``untouched``); an edge's say its kind (``next``, ``choice``, ``default``, ``catch``,
``retry``) and whether the execution took it. The failed state also carries
``data-highlight="failed"`` and the waiting one ``data-highlight="active"``.
"""

from __future__ import annotations

from html import escape

from stepstream.graph.layout import HEADER, Box, Placed
from stepstream.graph.progress import Progress
from stepstream.graph.shape import Edge, EdgeKind

MARGIN = 24
LOOP = 40  # how far a back edge swings out to the right

STYLE = """
.state rect{fill:#fff;stroke:#8a94a6;stroke-width:1.2}
.state.container rect{fill:#f6f8fb;stroke-dasharray:5 3}
.state.taken rect{fill:#e3f4e6;stroke:#2e7d32;stroke-width:2}
.state.active rect{fill:#e4efff;stroke:#1565c0;stroke-width:3}
.state.failed rect{fill:#fde7e7;stroke:#c62828;stroke-width:3}
.state text{font:13px sans-serif;fill:#1d2330}
.state text.badge{font-size:11px;fill:#5a6475}
.edge path{fill:none;stroke:#9aa3b2;stroke-width:1.3}
.edge.catch path{stroke:#e07b00;stroke-dasharray:6 4}
.edge.retry path{stroke:#7b1fa2;stroke-dasharray:2 3}
.edge.choice path,.edge.default path{stroke:#607d8b}
.edge.taken path{stroke:#2e7d32;stroke-width:2.6}
.edge text{font:10px sans-serif;fill:#7b1fa2}
"""


def render_svg(
    placed: Placed, progress: Progress | None = None, *, failed_state: str | None = None
) -> str:
    """The SVG text; ``failed_state`` overrides the one read from the history."""
    progress = progress or Progress()
    failed = failed_state or progress.failed_state
    width = placed.width + 2 * MARGIN + LOOP * 2
    height = placed.height + 2 * MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="execution-graph" '
        f'viewBox="{-MARGIN} {-MARGIN} {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="execution graph">',
        f"<style>{STYLE}</style>",
        "<defs>",
        _marker("arrow", "#9aa3b2"),
        _marker("arrow-taken", "#2e7d32"),
        _marker("arrow-catch", "#e07b00"),
        "</defs>",
    ]
    containers = [b for b in placed.boxes.values() if b.container]
    simple = [b for b in placed.boxes.values() if not b.container]
    for box in containers:  # first, so the states inside are drawn over them
        parts.append(_state(box, progress, failed))
    for edge in placed.edges:
        source, target = placed.boxes.get(edge.source), placed.boxes.get(edge.target)
        if source is not None and target is not None:
            parts.append(_edge(edge, source, target, progress))
    for box in simple:
        parts.append(_state(box, progress, failed))
    parts.append("</svg>")
    return "\n".join(parts)


def _marker(name: str, color: str) -> str:
    return (
        f'<marker id="{name}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="9" '
        f'markerHeight="9" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{color}"/></marker>'
    )


def _state(box: Box, progress: Progress, failed: str | None) -> str:
    outcome = progress.outcome.get(box.name)
    classes = ["state", f"type-{box.type.lower()}"]
    highlight = ""
    if box.container:
        classes.append("container")
    if box.name == failed:
        classes.append("failed")
        highlight = ' data-highlight="failed"'
    elif outcome == "active":
        classes.append("active")
        highlight = ' data-highlight="active"'
    elif outcome is not None:
        classes.append("taken")
    else:
        classes.append("untouched")
    entered = progress.entered.get(box.name, 0)
    retries = progress.retries.get(box.name, 0)
    badge = []
    if entered > 1:
        badge.append(f"entered {entered} times")
    if retries:
        badge.append(f"retries {retries}")
    title = f"{box.name} ({box.type})" + (f": {', '.join(badge)}" if badge else "")
    text_y = box.y + (HEADER * 0.65 if box.container else box.height / 2 + 4)
    label = escape(box.name) + ("" if not box.container else f" · {escape(box.type)}")
    out = [
        f'<g class="{" ".join(classes)}" data-state="{escape(box.name)}"'
        f' data-retries="{retries}" data-entered="{entered}"{highlight}>',
        f"<title>{escape(title)}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="{4 if box.container else 8}"/>',
        f'<text x="{box.center_x:.1f}" y="{text_y:.1f}" text-anchor="middle">{label}</text>',
    ]
    if badge:
        out.append(
            f'<text class="badge" x="{box.right - 4:.1f}" y="{box.y - 3:.1f}" '
            f'text-anchor="end">{escape(" · ".join(badge))}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _edge(edge: Edge, source: Box, target: Box, progress: Progress) -> str:
    taken = (edge.source, edge.target) in progress.taken or (
        edge.kind is EdgeKind.RETRY and progress.retries.get(edge.source, 0) > 0
    )
    classes = f"edge {edge.kind}" + (" taken" if taken else "")
    marker = "arrow-taken" if taken else ("arrow-catch" if edge.kind is EdgeKind.CATCH else "arrow")
    label = ""
    if edge.kind is EdgeKind.RETRY:
        x, y = source.right, source.y + source.height / 2
        d = f"M{x:.1f},{y - 8:.1f} C{x + 30:.1f},{y - 22:.1f} {x + 30:.1f},{y + 22:.1f} "
        d += f"{x:.1f},{y + 8:.1f}"
        label = f'<text x="{x + 26:.1f}" y="{y + 3:.1f}">↻</text>'
    elif target.y > source.y:
        x1, y1 = source.center_x, source.bottom
        x2, y2 = target.center_x, target.y
        mid = (y1 + y2) / 2
        d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{mid:.1f} {x2:.1f},{mid:.1f} {x2:.1f},{y2:.1f}"
    else:  # back up the graph: out to the right, up, and in from the right
        x1, y1 = source.right, source.y + source.height / 2
        x2, y2 = target.right, target.y + target.height / 2
        swing = max(x1, x2) + LOOP
        d = f"M{x1:.1f},{y1:.1f} C{swing:.1f},{y1:.1f} {swing:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    title = f"{edge.kind}: {edge.source} → {edge.target}"
    if edge.label:
        title += f" ({edge.label})"
    return (
        f'<g class="{classes}" data-source="{escape(edge.source)}" '
        f'data-target="{escape(edge.target)}"><title>{escape(title)}</title>'
        f'<path d="{d}" marker-end="url(#{marker})"/>{label}</g>'
    )
