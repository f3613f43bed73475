"""State transitions per second of CPU time of the ASL engine, on a virtual clock.

    python benchmarks/engine.py [--quick]

(a) a chain of 50 Pass states, each with Parameters and ResultPath;
(b) the error-handling tutorial machine on each of its inputs;
(c) a Map over 1,000 items, each running 2 Pass states;
(d) a loop of intrinsics and a Choice: a Pass computing with States.MathAdd, States.Format
    and States.ArrayLength, and a Choice of two rules sending it round again, 100 times.

Machines are shared and noisy, so every figure is also given as a ratio against a
reference measured in the same run: the same data work done by plain Python with no
engine ((a)'s for (a) to (c): build the parameters, merge them into the input, copy the
result; (d)'s own for (d): the arithmetic, the formatting and the comparisons).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stepstream.asl.definition import StateMachineDef  # noqa: E402
from stepstream.asl.local import LocalRunner, load_functions  # noqa: E402
from stepstream.asl.machine import load_machine  # noqa: E402

CHAIN_LENGTH = 50
MAP_ITEMS = 1000


def chain_definition() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i in range(CHAIN_LENGTH):
        state: dict[str, Any] = {
            "Type": "Pass",
            "Parameters": {"step": i, "order.$": "$.order", "total.$": "$.order.total"},
            "ResultPath": f"$.steps.s{i}",
        }
        if i + 1 < CHAIN_LENGTH:
            state["Next"] = f"S{i + 1}"
        else:
            state["End"] = True
        states[f"S{i}"] = state
    return {"StartAt": "S0", "States": states}


def map_definition() -> dict[str, Any]:
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "StartAt": "Price",
                    "States": {
                        "Price": {
                            "Type": "Pass",
                            "Parameters": {"sku.$": "$.sku", "qty.$": "$.qty"},
                            "Next": "Tag",
                        },
                        "Tag": {"Type": "Pass", "Result": "ok", "ResultPath": "$.tag", "End": True},
                    },
                },
                "End": True,
            }
        },
    }


LOOP_ROUNDS = 100


def loop_definition() -> dict[str, Any]:
    return {
        "StartAt": "Init",
        "States": {
            "Init": {
                "Type": "Pass",
                "Parameters": {"i": 0, "total": 0, "tags": ["a", "b"]},
                "Next": "Step",
            },
            "Step": {
                "Type": "Pass",
                "Parameters": {
                    "i.$": "States.MathAdd($.i, 1)",
                    "total.$": "States.MathAdd($.total, $.i)",
                    "label.$": "States.Format('item-{}', $.i)",
                    "count.$": "States.ArrayLength($.tags)",
                    "tags.$": "$.tags",
                },
                "Next": "Again",
            },
            "Again": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.i", "NumericLessThan": LOOP_ROUNDS},
                            {"Variable": "$.label", "StringMatches": "item-*"},
                        ],
                        "Next": "Step",
                    }
                ],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }


ORDER = {"order": {"id": "o-1", "total": 4200, "lines": [{"sku": "A", "qty": 2}]}}


def transitions(runner: LocalRunner) -> int:
    return sum(1 for event in runner.history if event.type.endswith("StateEntered"))


def run_once(
    machine: StateMachineDef, execution_input: Any, functions: dict[str, Any] | None = None
) -> int:
    runner = LocalRunner(machine, functions=functions, seed=1)
    runner.run(execution_input)
    assert runner.execution.status in ("SUCCEEDED", "FAILED"), runner.execution.status
    return transitions(runner)


def rate(work: Callable[[], int], seconds: float) -> float:
    """Units of work per second of this process's CPU time: the median of several rounds.

    CPU time rather than the wall clock, so that other processes on a shared machine
    (waiting for a core) count against neither the engine nor the reference.
    """
    rates = []
    deadline = time.process_time() + seconds
    while time.process_time() < deadline or len(rates) < 3:
        start = time.process_time()
        units = work()
        rates.append(units / (time.process_time() - start))
    return statistics.median(rates)


def reference_work() -> int:
    """What (a) does to the data, in plain Python: the ceiling for an interpreter."""
    data = copy.deepcopy(ORDER)
    for i in range(CHAIN_LENGTH):
        params = {"step": i, "order": data["order"], "total": data["order"]["total"]}
        data = copy.deepcopy(data)
        data.setdefault("steps", {})[f"s{i}"] = params
        json.dumps(data)  # the engine records every output in the history
    return CHAIN_LENGTH


def reference_loop_work() -> int:
    """What (d) does to the data, in plain Python."""
    data: dict[str, Any] = {"i": 0, "total": 0, "tags": ["a", "b"]}
    transitions = 2  # Init, and Done
    while True:
        data = {
            "i": data["i"] + 1,
            "total": data["total"] + data["i"],
            "label": f"item-{data['i']}",
            "count": len(data["tags"]),
            "tags": data["tags"],
        }
        json.dumps(data)  # the engine records every output in the history
        transitions += 2
        if not (data["i"] < LOOP_ROUNDS and data["label"].startswith("item-")):
            return transitions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds (for a smoke run)")
    seconds = 0.5 if parser.parse_args().quick else 2.0

    chain = load_machine(chain_definition())
    tutorial_dir = ROOT / "examples" / "error-handling"
    tutorial = load_machine((tutorial_dir / "MyAPIStateMachine.asl.json").read_text())
    functions = load_functions(tutorial_dir / "functions.py")
    mapping = load_machine(map_definition())
    items = {"items": [{"sku": f"S{i}", "qty": i % 5 + 1} for i in range(MAP_ITEMS)]}

    loop = load_machine(loop_definition())

    reference = rate(reference_work, seconds)
    loop_reference = rate(reference_loop_work, seconds)
    rows: list[tuple[str, float, float]] = [
        (
            "(a) 50 Pass states, Parameters + ResultPath",
            rate(lambda: run_once(chain, ORDER), seconds),
            reference,
        ),
    ]
    for code in ("200", "503", "429", "999"):
        label = f"(b) tutorial, statuscode {code}"
        value = rate(lambda c=code: run_once(tutorial, {"statuscode": c}, functions), seconds)
        rows.append((label, value, reference))
    rows.append(
        (
            f"(c) Map over {MAP_ITEMS} items x 2 Pass",
            rate(lambda: run_once(mapping, items), seconds),
            reference,
        )
    )
    rows.append(
        (
            f"(d) loop of intrinsics + Choice, {LOOP_ROUNDS} rounds",
            rate(lambda: run_once(loop, {}), seconds),
            loop_reference,
        )
    )

    print(f"reference: plain-Python data work of (a): {reference:,.0f} steps/s")
    print(f"reference: plain-Python data work of (d): {loop_reference:,.0f} steps/s")
    print(f"{'workload':48} {'transitions/s':>14} {'vs reference':>13}")
    for label, value, against in rows:
        print(f"{label:48} {value:14,.0f} {value / against:12.3g}x")


if __name__ == "__main__":
    main()
