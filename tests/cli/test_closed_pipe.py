"""Output read by a pipe that closes early (`stepstream ... | head`) ends the command
quietly, as a broken pipe ends other command-line tools: status 141, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from apps.cli.orders_commands import MAX_CELL, orders_table

ROOT = Path(__file__).resolve().parents[2]


def test_a_reader_that_went_away_ends_the_command_without_a_traceback() -> None:
    command = [sys.executable, "-m", "apps.cli.main", "validate", "definitions/fulfilment.asl.json"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before the command writes a byte

    errors = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141
    assert errors == ""


def order(order_id: str) -> dict[str, object]:
    return {
        "orderId": order_id,
        "status": "RUNNING",
        "retries": 0,
        "trackingNumber": None,
        "receipt": None,
        "path": ["ChargePayment"],
        "error": None,
    }


def test_a_long_order_id_is_clipped_so_the_rows_stay_readable() -> None:
    lines = orders_table([order("o" * 5_000), order("ord-1")]).splitlines()

    assert max(len(line) for line in lines) < 120
    assert lines[1].startswith("o" * (MAX_CELL - 1) + "…")
    assert lines[2].startswith("ord-1 ")
