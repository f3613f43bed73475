"""Replay, as a property: hypothesis builds machines (Pass, JSONata Pass, Wait, callback
and Lambda tasks with Retry, TimeoutSeconds and HeartbeatSeconds, Parallel, Map, Catch,
an execution timeout) and drives them through arbitrary interleavings of answers,
failures, heartbeats, clock moves and stops. `ReplayingRunner` checks at every decision
that the history rebuilds the live state and that the rebuilt execution decides alike.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.support import (
    Inbox,
    ReplayingRunner,
    callback_task,
    lambda_task,
    machine,
    replaying,
    snapshot,
)

ERRORS = ("Busy", "Broken")


@st.composite
def steps(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """One self-contained state (its name is unique to `index`) for a generated machine."""
    kind = draw(
        st.sampled_from(["pass", "jsonata", "wait", "callback", "lambda", "parallel", "map"])
    )
    retry = [
        {
            "ErrorEquals": [draw(st.sampled_from(["States.ALL", "Busy", "States.Timeout"]))],
            "IntervalSeconds": draw(st.integers(1, 20)),
            "MaxAttempts": draw(st.integers(0, 2)),
            "JitterStrategy": draw(st.sampled_from(["FULL", "NONE"])),
        }
    ]
    limits: dict[str, Any] = {}
    if draw(st.booleans()):
        limits["TimeoutSeconds"] = draw(st.integers(5, 200))
    if draw(st.booleans()):
        # AWS requires the heartbeat to be shorter than the timeout.
        limits["HeartbeatSeconds"] = draw(st.integers(3, limits.get("TimeoutSeconds", 61) - 1))
    if kind == "pass":
        return {
            "Type": "Pass",
            "Result": {"step": index},
            "ResultPath": f"$.s{index}",
            "Assign": {f"v{index}": index},
        }
    if kind == "jsonata":
        return {
            "Type": "Pass",
            "QueryLanguage": "JSONata",
            "Assign": {f"count{index}": "{% $count($states.input.items) %}"},
            "Output": "{% $merge([$states.input, {'seen': $states.context.State.Name}]) %}",
        }
    if kind == "wait":
        return {"Type": "Wait", "Seconds": draw(st.integers(0, 90))}
    if kind == "callback":
        return callback_task(Retry=retry, ResultPath=f"$.s{index}", **limits)
    if kind == "lambda":
        return lambda_task("work", Retry=retry, ResultPath=f"$.s{index}")
    if kind == "parallel":
        return {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": f"Ask {index}",
                    "States": {f"Ask {index}": callback_task(End=True, **limits)},
                },
                {
                    "StartAt": f"Nap {index}",
                    "States": {
                        f"Nap {index}": {
                            "Type": "Wait",
                            "Seconds": draw(st.integers(1, 50)),
                            "End": True,
                        }
                    },
                },
            ],
            "Retry": retry,
            "ResultPath": f"$.s{index}",
        }
    return {
        "Type": "Map",
        "ItemsPath": "$.items",
        "MaxConcurrency": draw(st.integers(0, 3)),
        "ToleratedFailureCount": draw(st.integers(0, 2)),
        "ItemProcessor": {
            "StartAt": f"Item {index}",
            "States": {f"Item {index}": callback_task(End=True, **limits)},
        },
        "Retry": retry,
        "ResultPath": f"$.s{index}",
    }


@st.composite
def machines(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    names = [f"Step {i}" for i in range(count)]
    states: dict[str, Any] = {}
    for index, name in enumerate(names):
        state = draw(steps(index))
        following = names[index + 1] if index + 1 < count else "Recovered"
        if state["Type"] in ("Task", "Parallel", "Map") and draw(st.booleans()):
            state["Catch"] = [
                {"ErrorEquals": ["States.ALL"], "Next": following, "ResultPath": f"$.e{index}"}
            ]
        states[name] = {
            **state,
            **({"Next": names[index + 1]} if index + 1 < count else {"End": True}),
        }
    if any(c["Next"] == "Recovered" for s in states.values() for c in s.get("Catch", [])):
        states["Recovered"] = {"Type": "Pass", "End": True}
    top: dict[str, Any] = (
        {"TimeoutSeconds": draw(st.integers(50, 400))} if draw(st.booleans()) else {}
    )
    return machine(states, **top)


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("success"), st.integers(0, 10)),
        st.tuples(st.just("failure"), st.integers(0, 10), st.sampled_from(ERRORS)),
        st.tuples(st.just("heartbeat"), st.integers(0, 10)),
        st.tuples(st.just("advance"), st.integers(1, 120)),
        st.tuples(st.just("settle")),
        st.tuples(st.just("stop")),
    ),
    max_size=25,
)


def act(local: ReplayingRunner, action: tuple[Any, ...]) -> None:
    kind = action[0]
    # Only callbacks can be answered from outside; the runner answers Lambda calls itself.
    pending = [task for task in local.execution.pending_tasks() if task.token is not None]
    if kind in ("success", "failure", "heartbeat"):
        if not pending:
            return
        task = pending[action[1] % len(pending)]
        assert task.token is not None
        if kind == "success":
            local.send_task_success(task.token, {"n": action[1]})
        elif kind == "failure":
            local.send_task_failure(task.token, action[2], "generated")
        else:
            local.send_task_heartbeat(task.token)
        local.settle()
    elif kind == "advance":
        local.advance(action[1])
    elif kind == "settle":
        local.settle()
    elif action == ("stop",) and local.decisions > 3:
        local.stop("Stopped", "by the test")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    definition=machines(),
    items=st.lists(st.integers(0, 9), max_size=4),
    lambda_failures=st.lists(st.booleans(), max_size=6),
    seed=st.integers(0, 1000),
    actions=ACTIONS,
)
def test_generated_machines_replay_at_every_decision(
    definition: dict[str, Any],
    items: list[int],
    lambda_failures: list[bool],
    seed: int,
    actions: list[tuple[Any, ...]],
) -> None:
    failures = list(lambda_failures)

    def work(event: Any, context: Any) -> Any:
        if failures and failures.pop(0):
            raise RuntimeError("Busy")
        return "worked"

    inbox = Inbox()
    local = replaying(definition, {"work": work, "publish": inbox}, seed=seed)
    local.start({"items": items})
    for action in actions:
        if local.execution.status != "RUNNING":
            break
        act(local, action)
    # Whatever was left: let every timer fire, answering what still waits.
    for _ in range(50):
        if local.execution.status != "RUNNING":
            break
        pending = local.execution.pending_tasks()
        if pending and pending[0].token is not None:
            local.send_task_success(pending[0].token, "last")
        local.run_until_idle()
    assert local.execution.status != "RUNNING" or not local.execution.timers()
    assert snapshot(local.execution.state)["last_event_id"] == len(local.history)
