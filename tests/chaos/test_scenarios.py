"""Scenario files: the shipped ones load, and a bad one is refused naming its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.chaos.scenario import (
    KillFault,
    ScenarioError,
    find_scenario,
    load_scenario,
    shipped,
)
from apps.cli.main import main

REQUIRED = {"carrier-storm", "kill-everything", "broker-wipe", "review-flood"}
KINDS = {"orchestrator", "charge-payment", "reserve-stock", "book-shipment", "emit-receipt"}


def test_the_shipped_scenarios_load_and_cover_the_required_ones() -> None:
    scenarios = {name: load_scenario(path) for name, path in shipped().items()}
    assert set(scenarios) >= REQUIRED
    killed = {f.process for f in scenarios["kill-everything"].faults if isinstance(f, KillFault)}
    assert KINDS | {"review-desk", "order-view", "broker"} <= killed
    phases = {f.during for f in scenarios["kill-everything"].faults if isinstance(f, KillFault)}
    assert {"compensation", "review"} <= phases


def test_a_bad_field_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\norders = 10\n\n[[faults]]\nkind = "kill"\nprocess = "orchestrator"\n'
        'at = 3\n\n[[faults]]\nkind = "carrier"\nfrom = 1\nto = 5\nrate_429 = 1.5\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert f"{path}:13: faults.1.rate_429" in str(caught.value)


def test_a_kill_without_a_moment_and_an_unknown_process_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n\n[[faults]]\nkind = "kill"\nprocess = "database"\nat = "20%"\n'
        '\n[[faults]]\nkind = "kill"\nprocess = "broker"\nfrom = 1\nto = 2\n'
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert f"{path}:5: faults.0.process" in message
    assert "faults.1" in message and "give 'at'" in message


def test_a_time_that_is_neither_seconds_nor_a_share_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[[faults]]\nkind = "kill"\nprocess = "broker"\nat = "soon"\n')
    with pytest.raises(ScenarioError, match="'soon' is not a time"):
        load_scenario(path)


def test_shares_of_the_placing_scale_with_the_orders() -> None:
    scenario = load_scenario(find_scenario("broker-wipe"))
    kill = next(f for f in scenario.faults if isinstance(f, KillFault))
    assert kill.window(100.0) == (30.0, 30.0)
    assert kill.window(10.0) == (3.0, 3.0)


def test_an_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ScenarioError, match="kill-everything"):
        find_scenario("no-such-scenario")


def test_list_prints_each_shipped_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "--list"]) == 0
    out = capsys.readouterr().out
    for name in REQUIRED:
        assert name in out
