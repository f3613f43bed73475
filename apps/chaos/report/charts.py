"""The report's charts, drawn with matplotlib (no display needed), saved as PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display on a build machine

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from apps.chaos.audit.outcomes import Outcome
from apps.chaos.report.analysis import Point, Series, Window

COLOURS = {
    Outcome.SUCCEEDED: "#2e7d32",
    Outcome.FAILED: "#c62828",
    Outcome.IN_REVIEW: "#f9a825",
}
SHADES = {"carrier": "#ffcc80", "stripe": "#ce93d8", "stall": "#90caf9", "kill": "#ef5350"}


def shade(axes: Axes, faults: list[Window]) -> None:
    """Each fault window shaded and labelled; a kill is a line at its moment."""
    top = axes.get_ylim()[1]
    for n, window in enumerate(faults):
        colour = SHADES.get(window.kind, "#bdbdbd")
        if window.instant:
            axes.axvline(window.start, color=colour, linewidth=1.5, linestyle="--")
        else:
            axes.axvspan(window.start, window.end, color=colour, alpha=0.25, linewidth=0)
        axes.text(
            window.start,
            top * (0.97 - 0.07 * (n % 6)),
            window.label,
            fontsize=6.5,
            rotation=0,
            va="top",
            ha="left",
            color="#333333",
        )


def throughput_and_latency(data: Series, faults: list[Window], path: Path) -> None:
    figure, (upper, lower) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True)
    upper.plot(data.times, data.throughput, color="#1565c0", linewidth=1.4)
    upper.set_ylabel("orders settled / s")
    upper.set_ylim(bottom=0, top=max(data.throughput, default=1) * 1.35 or 1)
    upper.set_title("Throughput and order latency (faults shaded)", fontsize=10)
    shade(upper, faults)
    # NaN breaks the line: a bucket where nothing ended has no latency to draw.
    p50 = [float("nan") if v is None else v for v in data.p50]
    p99 = [float("nan") if v is None else v for v in data.p99]
    lower.plot(data.times, p50, label="p50", color="#2e7d32", marker=".", markersize=3)
    lower.plot(data.times, p99, label="p99", color="#c62828", marker=".", markersize=3)
    highest = max([v for v in data.p99 if v is not None], default=1.0)
    lower.set_ylim(bottom=0, top=highest * 1.35 or 1)
    lower.set_ylabel("latency (s), by end time")
    lower.set_xlabel("seconds into the run")
    lower.legend(loc="upper right", fontsize=8)
    shade(lower, faults)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def outcomes(settled: list[Point], faults: list[Window], path: Path) -> None:
    figure, axes = plt.subplots(figsize=(11, 3.6))
    for outcome, colour in COLOURS.items():
        ends = sorted(p.end for p in settled if p.outcome is outcome)
        axes.step(ends, range(1, len(ends) + 1), where="post", color=colour, label=str(outcome))
    axes.set_ylim(bottom=0, top=max(len(settled), 1) * 1.1)
    axes.set_ylabel("orders (cumulative)")
    axes.set_xlabel("seconds into the run")
    axes.set_title("Outcomes over time", fontsize=10)
    axes.legend(loc="center right", fontsize=8)
    shade(axes, faults)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
