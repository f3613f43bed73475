"""The execution graph: states and edges from a definition, progress from a history, SVG."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from stepstream.asl.history import HistoryEvent
from stepstream.graph import EdgeKind, layout, read_graph, read_progress, render_svg

ROOT = Path(__file__).resolve().parents[2]
FULFILMENT = json.loads((ROOT / "definitions" / "fulfilment.asl.json").read_text())


def history(name: str) -> list[dict[str, Any]]:
    recorded = json.loads((ROOT / "tests" / "orders" / "histories" / f"{name}.json").read_text())
    return [HistoryEvent.from_record(event).to_aws() for event in recorded["events"]]


def test_every_state_is_a_node_including_parallel_branches_and_map_processors() -> None:
    definition = {
        "StartAt": "Split",
        "States": {
            "Split": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                    {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": True}}},
                ],
                "Next": "Each",
            },
            "Each": {
                "Type": "Map",
                "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Succeed"}}},
                "End": True,
            },
        },
    }
    graph = read_graph(definition)
    assert {node.name for node in graph.walk()} == {"Split", "A", "B", "Each", "Item"}
    placed = layout(graph)
    split, a, b = placed.boxes["Split"], placed.boxes["A"], placed.boxes["B"]
    for inner in (a, b):  # the branches are drawn inside their Parallel
        assert split.x <= inner.x and inner.right <= split.right
        assert split.y < inner.y and inner.bottom <= split.bottom
    assert placed.boxes["Each"].y > split.bottom
    assert placed.boxes["Item"].y > placed.boxes["Each"].y


def test_retry_and_catch_edges_are_their_own_kinds() -> None:
    graph = read_graph(FULFILMENT)
    kinds = {(e.source, e.target): e.kind for e in graph.edges if e.source == "BookShipment"}
    assert kinds[("BookShipment", "EmitReceipt")] is EdgeKind.NEXT
    assert kinds[("BookShipment", "Compensate")] is EdgeKind.CATCH
    assert kinds[("BookShipment", "BookShipment")] is EdgeKind.RETRY
    svg = render_svg(layout(graph))
    assert 'class="edge catch" data-source="BookShipment" data-target="Compensate"' in svg
    assert 'class="edge retry" data-source="BookShipment" data-target="BookShipment"' in svg


def test_a_waiting_review_highlights_the_failed_state_and_the_waiting_one() -> None:
    progress = read_progress(history("review-waiting"))
    assert progress.path == ["ChargePayment", "ReserveStock", "BookShipment", "WaitForHumanReview"]
    assert progress.failed_state == "BookShipment"
    assert progress.active == ["WaitForHumanReview"]
    svg = render_svg(layout(read_graph(FULFILMENT)), progress)
    failed = re.findall(r'data-state="([^"]+)"[^>]*data-highlight="failed"', svg)
    waiting = re.findall(r'data-state="([^"]+)"[^>]*data-highlight="active"', svg)
    assert (failed, waiting) == (["BookShipment"], ["WaitForHumanReview"])
    assert 'class="edge next taken" data-source="ChargePayment" data-target="ReserveStock"' in svg
    assert 'data-target="OrderFulfilled"' in svg and 'taken" data-source="EmitReceipt' not in svg


def test_a_retry_after_review_counts_the_visits_and_clears_the_failure() -> None:
    progress = read_progress(history("review-retried"))
    assert progress.entered["BookShipment"] == 2
    assert progress.failed_state is None  # it got through the second time
    assert ("ChooseAfterReview", "BookShipment") in progress.taken


def test_carrier_retries_are_counted_on_their_state() -> None:
    progress = read_progress(history("carrier-retried"))
    assert progress.retries["BookShipment"] >= 1
    svg = render_svg(layout(read_graph(FULFILMENT)), progress)
    assert f'data-state="BookShipment" data-retries="{progress.retries["BookShipment"]}"' in svg


def test_state_names_are_escaped_in_the_drawing() -> None:
    definition = {"StartAt": "<b>", "States": {"<b>": {"Type": "Succeed"}}}
    svg = render_svg(layout(read_graph(definition)))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
