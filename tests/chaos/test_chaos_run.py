"""A short chaos run end to end: a fresh stack, a few hundred orders at a high rate, the
orchestrator and a service killed mid-flight, the carrier answering 429 and 503, an
operator at the review desk; the audit of the system's records must come out clean and
the report must be there, self-contained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.cli.main import main

SCENARIO = """
name = "ci-short"
description = "A few hundred orders through kills and a carrier storm."
hypothesis = "Nothing lost, nothing paid twice, stock and money add up."
orders = 240
rate = 40
seed = 11
settle_seconds = 150

[operator]
delay_seconds = 0.5

[[faults]]
kind = "carrier"
from = "10%"
to = "80%"
rate_429 = 0.25
retry_after_seconds = 1
rate_503 = 0.2
rate_malformed = 0.02

[[faults]]
kind = "kill"
process = "orchestrator"
at = "30%"

[[faults]]
kind = "kill"
process = "book-shipment"
at = "60%"
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    folder = tmp_path_factory.mktemp("chaos")
    scenario = folder / "ci-short.toml"
    scenario.write_text(SCENARIO)
    report = folder / "report"
    code = main(["chaos", str(scenario), "--report", str(report), "--quiet"])
    return code, report


def test_the_audit_is_clean_after_kills_and_a_carrier_storm(run: tuple[int, Path]) -> None:
    code, report = run
    summary = json.loads((report / "summary.json").read_text())
    broken = [i for i in summary["invariants"] if not i["holds"]]
    assert broken == [] and code == 0
    assert summary["ordersAccepted"] == 240
    assert all(i["checked"] > 0 for i in summary["invariants"])
    assert summary["verdict"].startswith("PASS")


def test_the_faults_were_played_and_touched_orders(run: tuple[int, Path]) -> None:
    _, report = run
    events = [json.loads(line) for line in (report / "events.jsonl").read_text().splitlines()]
    killed = {e["process"] for e in events if e["kind"] == "killed" and e["pid"]}
    assert killed == {"orchestrator", "book-shipment"}
    faults = json.loads((report / "summary.json").read_text())["faults"]
    storm = next(f for f in faults if f["kind"] == "carrier")
    assert storm["ordersAffected"] > 0 and storm["retries"] > 0


def test_the_report_is_one_self_contained_page_with_its_charts(run: tuple[int, Path]) -> None:
    _, report = run
    page = (report / "index.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    assert "<script" not in page and "<link" not in page and 'src="http' not in page
    assert "ci-short" in page and "no-double-effect" in page
    for chart in ("throughput-latency.png", "outcomes.png"):
        assert (report / chart).read_bytes().startswith(b"\x89PNG")
