"""A command that reads a stack, pointed at a folder that holds none (a mistyped
--data-dir), says so, naming the folder, fails, and creates nothing there."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.cli.main import main

READERS = [
    ["orders", "list"],
    ["orders", "list", "--json"],
    ["orders", "show", "ord-1"],
    ["review", "list"],
    ["review", "show", "rv-1"],
    ["review", "resolve", "rv-1", "--decision", "fail", "--reason", "r"],
    ["status"],
    ["describe-execution", "arn:aws:states:local:000000000000:execution:Fulfilment:x"],
    ["list-executions"],
    ["carrier", "faults"],
]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_folder_that_does_not_exist_is_reported_and_not_created(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = tmp_path / "stepstraem"
    code = main([*command, "--data-dir", str(typo)])
    out, err = capsys.readouterr()
    assert code != 0
    assert str(typo) in err
    assert "no orders yet" not in out and "no open review tickets" not in out
    assert not typo.exists()


@pytest.mark.parametrize(
    ("command", "what"),
    [(["orders", "list"], "orders view"), (["review", "list"], "review tickets")],
    ids=["orders", "review"],
)
def test_a_folder_without_the_stack_s_database_is_reported_and_left_empty(
    command: list[str], what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*command, "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code != 0
    assert f"no {what} in {tmp_path}" in err
    assert list(tmp_path.iterdir()) == []
