"""The 4-task saga the pipeline and orchestrator benchmarks drive: one Task per step."""

from __future__ import annotations

from typing import Any

STEPS = ["charge", "reserve", "ship", "receipt"]


def saga_definition() -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i, step in enumerate(STEPS):
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": f"arn:aws:lambda:us-east-1:1:function:{step}",
            "ResultPath": f"$.{step}",
        }
        state.update({"Next": STEPS[i + 1]} if i + 1 < len(STEPS) else {"End": True})
        states[step] = state
    return {"StartAt": STEPS[0], "States": states}
