"""deploy/grafana/stepstream.json charts every metric the processes export, and only those."""

from __future__ import annotations

import json
import re

from prometheus_client.core import REGISTRY

from stepstream.observability import metrics
from tests.deploy.support import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "stepstream.json"
_SUFFIXES = ("_total", "_bucket", "_count", "_sum", "_created")


def _exported() -> set[str]:
    """The names of the stepstream metric families, as Prometheus stores them."""
    assert metrics.EXECUTIONS_STARTED is not None  # the definitions are loaded
    return {family.name for family in REGISTRY.collect() if family.name.startswith("stepstream_")}


def _charted() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    names = set()
    for expr in exprs:
        for name in re.findall(r"\bstepstream_[a-z_]+", expr):
            for suffix in _SUFFIXES:
                if name.endswith(suffix):
                    name = name.removesuffix(suffix)
                    break
            names.add(name)
    return names


def test_every_exported_metric_is_charted_and_every_chart_reads_one_that_exists() -> None:
    assert _charted() == _exported()


def test_panels_use_the_dashboards_prometheus_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "stepstream"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
