"""The report page: one HTML file with its charts inside as data URIs, so it opens offline."""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
.verdict { font-size: 1.15em; padding: 0.6em 0.9em; border-radius: 6px; margin: 1em 0; }
.pass { background: #e8f5e9; border: 1px solid #2e7d32; }
.fail { background: #ffebee; border: 1px solid #c62828; }
table { border-collapse: collapse; margin: 0.6em 0 1.4em; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #2e7d32; font-weight: 600; } .bad { color: #c62828; font-weight: 600; }
code, pre { font-size: 12px; } img { max-width: 100%; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 14px; }
dt { color: #666; }
"""


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{escape(path.stem)}" src="data:image/png;base64,{data}">'


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    head = "".join(f"<th>{escape(title)}</th>" for _, title in columns)
    body = []
    for row in rows:
        cells = []
        for key, _ in columns:
            value = row.get(key)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            shown = "-" if value is None else str(value)
            cells.append(
                f'<td class="num">{shown}</td>' if numeric else f"<td>{escape(shown)}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _invariants(invariants: list[dict[str, Any]]) -> str:
    rows = []
    for item in invariants:
        mark = '<span class="ok">pass</span>' if item["holds"] else '<span class="bad">FAIL</span>'
        examples = "".join(
            f"<li><code>{escape(', '.join(v['orderIds']) or 'total')}</code>: "
            f"{escape(v['evidence'])}</li>"
            for v in item["counterExamples"]
        )
        more = item["violationCount"] - len(item["counterExamples"])
        if more > 0:
            examples += f"<li>... and {more} more (summary.json)</li>"
        rows.append(
            f"<tr><td>{mark}</td><td>{escape(item['title'])}<br><code>{item['key']}</code></td>"
            f'<td class="num">{item["checked"]}</td>'
            f"<td>{'<ul>' + examples + '</ul>' if examples else '-'}</td></tr>"
        )
    head = "<tr><th></th><th>invariant</th><th>checked</th><th>counter-examples</th></tr>"
    return f"<table>{head}{''.join(rows)}</table>"


def render(summary: dict[str, Any], images: list[Path]) -> str:
    scenario = summary["scenario"]
    css = "pass" if summary["holds"] else "fail"
    facts = {
        "seed": scenario["seed"],
        "orders": f"{scenario['orders']} at {scenario['rate']:g}/s",
        "accepted / settled": f"{summary['ordersAccepted']} / {summary['ordersSettled']}",
        "outcomes": ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items())),
        "duration": f"{summary['durationSeconds']} s",
        "throughput": f"{summary['throughputOrdersPerSecond']} orders/s",
        "operator decisions": json.dumps(summary["decisions"]) if summary["decisions"] else "-",
        "started": summary["startedAt"],
        "versions": ", ".join(f"{k} {v}" for k, v in summary["versions"].items()),
    }
    steady = summary["steadyState"]
    fault_columns = [
        ("fault", "fault"),
        ("from", "from (s)"),
        ("to", "to (s)"),
        ("ordersAffected", "orders affected"),
        ("retries", "retries"),
        ("compensations", "compensations"),
        ("reviewTickets", "review tickets"),
        ("recoverySeconds", "time to recover (s)"),
    ]
    names = {"beforeFirstFault": "before the first fault", "fromFirstFault": "after it"}
    steady_rows = [{"when": names.get(when, when), **figures} for when, figures in steady.items()]
    steady_columns = [
        ("when", "orders that ended"),
        ("orders", "orders"),
        ("p50LatencySeconds", "p50 latency (s)"),
        ("p99LatencySeconds", "p99 latency (s)"),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>stepstream chaos: {escape(scenario["name"])}</title><style>{STYLE}</style></head>
<body>
<h1>stepstream chaos: {escape(scenario["name"])}</h1>
<p>{escape(scenario.get("description", ""))}</p>
<p><b>Hypothesis.</b> {escape(scenario.get("hypothesis", "") or "-")}</p>
<div class="verdict {css}">{escape(summary["verdict"])}</div>
<dl>{"".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in facts.items())}</dl>
<h2>Invariants</h2>
{_invariants(summary["invariants"])}
<h2>Throughput, latency and outcomes</h2>
{"".join(_image(path) for path in images)}
<h2>Steady state against the faults</h2>
{_table(steady_rows, steady_columns)}
<h2>Faults</h2>
<p>Orders affected: in flight at any time during the fault (for a kill, at its moment).
Retries, compensations and tickets: those inside the window (a kill's: the second after).
Time to recover: from the window's end until the last affected order settled.</p>
{_table(summary["faults"], fault_columns)}
<p>Raw events: <code>events.jsonl</code>; every figure: <code>summary.json</code>.</p>
</body></html>
"""
