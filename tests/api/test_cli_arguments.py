"""JSON arguments on the command line as the AWS CLI takes them: inline, or file://PATH
for a document larger than a command line holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.cli.main import build_parser, main

LARGE_ORDER = {
    "orderId": "ord-large",
    "items": [{"sku": f"SKU-{n}", "qty": 1} for n in range(20000)],
}


def test_start_execution_reads_its_input_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "order.json"
    path.write_text(json.dumps(LARGE_ORDER))
    args = build_parser().parse_args(["start-execution", "Fulfilment", "--input", f"file://{path}"])
    assert json.loads(args.input) == LARGE_ORDER


def test_start_execution_takes_inline_input_as_it_is() -> None:
    args = build_parser().parse_args(["start-execution", "Fulfilment", "--input", '{"a": 1}'])
    assert args.input == '{"a": 1}'


def test_send_task_success_reads_its_task_output_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text('{"decision": "retry"}')
    for flag in ("--output", "--task-output"):
        args = build_parser().parse_args(["send-task-success", "tok", flag, f"file://{path}"])
        assert args.output == '{"decision": "retry"}'


def test_create_state_machine_takes_a_path_or_a_file_url(tmp_path: Path) -> None:
    definition = tmp_path / "machine.asl.json"
    definition.write_text('{"StartAt": "A"}')
    bindings = tmp_path / "bindings.json"
    bindings.write_text("{}")
    args = build_parser().parse_args(
        [
            "create-state-machine",
            "M",
            "--definition",
            f"file://{definition}",
            "--bindings",
            str(bindings),
        ]
    )
    assert (args.definition, args.bindings) == ('{"StartAt": "A"}', "{}")


def test_a_missing_input_file_is_a_clear_error_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.json"
    with pytest.raises(SystemExit) as exited:
        main(
            [
                "start-execution",
                "Fulfilment",
                "--input",
                f"file://{missing}",
                "--data-dir",
                str(tmp_path),
            ]
        )
    assert exited.value.code != 0
    error = capsys.readouterr().err
    assert f"cannot read {missing}" in error
    assert "No such file or directory" in error
