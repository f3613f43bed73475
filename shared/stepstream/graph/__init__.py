"""The execution graph: an ASL definition's states and transitions, laid out, with the
path an execution took, drawn as SVG.

Data first: ``shape`` reads the nodes and edges from a definition, ``progress`` reads
what an execution did from its history, ``layout`` places the nodes, and ``svg`` draws
the result. All pure, so the graph is testable without a browser.
"""

from stepstream.graph.layout import Placed, layout
from stepstream.graph.progress import Progress, read_progress
from stepstream.graph.shape import Edge, EdgeKind, Graph, Node, read_graph
from stepstream.graph.svg import render_svg

__all__ = [
    "Edge",
    "EdgeKind",
    "Graph",
    "Node",
    "Placed",
    "Progress",
    "layout",
    "read_graph",
    "read_progress",
    "render_svg",
]
