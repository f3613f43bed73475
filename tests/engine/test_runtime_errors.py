"""Errors raised while a state runs, in Step Functions' own words.

Recorded AWS behaviour: an error in the evaluation of a state's own fields (a path that
selects nothing, a bad Wait or Map value, JSONata that returns nothing) has the cause
``An error occurred while executing the state '<State>' (entered at the event id #<id>).
<detail>``, where the id is that of the state's Entered event. JSONPath states raise
States.Runtime (a Parameters path included: not States.ParameterPathFailure), JSONata
evaluation States.QueryEvaluationError; the details follow the wording of Jayway JsonPath
and of the Step Functions service.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepstream.asl.history import HistoryEvent
from stepstream.asl.local import LocalRunner
from tests.engine.support import lambda_task, machine, of_type, run

WAIT_LIMIT = 2**31  # seconds; about 68 years


def entered_id(history: list[HistoryEvent], state: str) -> int:
    [event] = [
        e
        for e in history
        if e.type.endswith("StateEntered") and getattr(e.details, "name", None) == state
    ]
    return event.id


def located(local: LocalRunner, state: str, detail: str) -> str:
    return (
        f"An error occurred while executing the state '{state}' "
        f"(entered at the event id #{entered_id(local.history, state)}). {detail}"
    )


def failure(local: LocalRunner) -> tuple[str | None, str | None]:
    assert local.execution.status == "FAILED", local.execution.status
    return local.execution.error, local.execution.cause


def after_a_pass(state: dict[str, Any]) -> dict[str, Any]:
    """A machine where `Broken` is the second state, so its Entered event is not #2."""
    return machine({"First": {"Type": "Pass", "Next": "Broken"}, "Broken": state})


# -- paths that select nothing ---------------------------------------------------------------


def test_an_input_path_that_selects_nothing_names_the_missing_leaf() -> None:
    local = run(after_a_pass({"Type": "Pass", "InputPath": "$.x", "End": True}), {"y": 1})
    assert failure(local) == (
        "States.Runtime",
        located(local, "Broken", "Invalid path '$.x' : No results for path: $['x']"),
    )
    assert entered_id(local.history, "Broken") == 4


def test_a_missing_step_on_the_way_is_a_missing_property() -> None:
    local = run(after_a_pass({"Type": "Pass", "OutputPath": "$.a.b", "End": True}), {"y": 1})
    assert failure(local) == (
        "States.Runtime",
        located(local, "Broken", "Invalid path '$.a.b' : Missing property in path $['a']"),
    )


def test_a_parameters_path_that_selects_nothing_is_states_runtime() -> None:
    state = {"Type": "Pass", "Parameters": {"value.$": "$.p"}, "End": True}
    local = run(after_a_pass(state), {"q": 1, "s": "é"})
    detail = (
        "The JSONPath '$.p' specified for the field 'value.$' could not be found "
        'in the input \'{"q":1,"s":"é"}\''
    )
    assert failure(local) == ("States.Runtime", located(local, "Broken", detail))


def test_an_item_selector_path_that_selects_nothing_is_states_runtime() -> None:
    state = {
        "Type": "Map",
        "ItemSelector": {"v.$": "$.nothing"},
        "ItemProcessor": {"StartAt": "Each", "States": {"Each": {"Type": "Pass", "End": True}}},
        "End": True,
    }
    local = run(machine({"Fan": state}), [1, 2])
    error, cause = failure(local)
    assert error == "States.Runtime"
    assert cause is not None and cause.startswith(located(local, "Fan", ""))
    assert "'$.nothing' specified for the field 'v.$'" in cause


def test_fail_error_and_cause_paths_that_select_nothing() -> None:
    local = run(after_a_pass({"Type": "Fail", "ErrorPath": "$.code", "Cause": "x"}), {})
    assert failure(local) == (
        "States.Runtime",
        located(local, "Broken", "Invalid path '$.code' : No results for path: $['code']"),
    )
    local = run(after_a_pass({"Type": "Fail", "Error": "E", "CausePath": "$.why"}), {})
    assert failure(local)[1] == located(
        local, "Broken", "Invalid path '$.why' : No results for path: $['why']"
    )


def _first_miss(document: Any, keys: list[str]) -> int | None:
    node = document
    for position, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            return position
        node = node[key]
    return None


_KEYS = st.sampled_from(["a", "b", "c"])
_DOCUMENTS = st.recursive(
    st.integers(0, 9), lambda inner: st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8
)


@settings(max_examples=60, deadline=None)
@given(
    document=st.dictionaries(_KEYS, _DOCUMENTS, max_size=3),
    keys=st.lists(_KEYS, min_size=1, max_size=4),
)
def test_the_detail_of_any_missing_input_path(document: dict[str, Any], keys: list[str]) -> None:
    miss = _first_miss(document, keys)
    path = "$." + ".".join(keys)
    local = run(machine({"Read": {"Type": "Pass", "InputPath": path, "End": True}}), document)
    if miss is None:
        assert local.execution.status == "SUCCEEDED"
        return
    if miss == len(keys) - 1:
        detail = "No results for path: $" + "".join(f"['{k}']" for k in keys)
    else:
        detail = "Missing property in path $" + "".join(f"['{k}']" for k in keys[: miss + 1])
    assert failure(local) == (
        "States.Runtime",
        located(local, "Read", f"Invalid path '{path}' : {detail}"),
    )


# -- Wait ------------------------------------------------------------------------------------


def wait_on(value: Any) -> LocalRunner:
    return run(after_a_pass({"Type": "Wait", "SecondsPath": "$.w", "End": True}), {"w": value})


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        (1.5, "The SecondsPath parameter cannot be parsed as a long value: $.w == 1.5"),
        ("10", 'The SecondsPath parameter cannot be parsed as a long value: $.w == "10"'),
        (-1, "The SecondsPath parameter references a negative value: $.w == -1"),
        (WAIT_LIMIT, "Wait state delay is too long."),
    ],
)
def test_seconds_path_values_a_wait_cannot_use(value: Any, detail: str) -> None:
    local = wait_on(value)
    assert failure(local) == ("States.Runtime", located(local, "Broken", detail))


def test_a_seconds_path_that_selects_nothing() -> None:
    local = run(after_a_pass({"Type": "Wait", "SecondsPath": "$.w", "End": True}), {})
    assert failure(local)[1] == located(
        local, "Broken", "The SecondsPath parameter does not reference an input value: $.w"
    )


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=WAIT_LIMIT * 2))
def test_any_whole_number_of_seconds_below_2_to_the_31_waits_exactly_that_long(
    seconds: int,
) -> None:
    local = wait_on(seconds)
    if seconds >= WAIT_LIMIT:
        assert failure(local)[1] == located(local, "Broken", "Wait state delay is too long.")
        return
    assert local.execution.status == "SUCCEEDED"
    [entered] = of_type(local.history, "WaitStateEntered")
    [exited] = of_type(local.history, "WaitStateExited")
    assert (exited.timestamp - entered.timestamp).total_seconds() == seconds


def test_a_day_short_of_the_limit_still_waits() -> None:
    # A literal Seconds is bounded at definition time (99,999,999); a path is not.
    local = wait_on(WAIT_LIMIT - 86_400)
    assert local.execution.status == "SUCCEEDED"


# -- Map ---------------------------------------------------------------------------------------


def map_state(**fields: Any) -> dict[str, Any]:
    return {
        "Type": "Map",
        "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}},
        "End": True,
        **fields,
    }


def test_map_input_that_is_not_an_array() -> None:
    local = run(after_a_pass(map_state(ItemsPath="$.items")), {"items": {"foo": "bar"}})
    assert failure(local) == (
        "States.Runtime",
        located(local, "Broken", 'Map state input must be an array but was: {"foo":"bar"}'),
    )


@pytest.mark.parametrize(
    ("field", "value", "kind"),
    [
        ("MaxConcurrencyPath", "x", "integer"),
        ("MaxConcurrencyPath", 1.5, "integer"),
        ("ToleratedFailureCountPath", "x", "integer"),
        ("ToleratedFailurePercentagePath", "x", "float"),
    ],
)
def test_map_numbers_read_from_a_path_must_be_numbers(field: str, value: Any, kind: str) -> None:
    local = run(
        after_a_pass(map_state(ItemsPath="$.items", **{field: "$.p"})), {"p": value, "items": [1]}
    )
    shown = value if isinstance(value, str) else json.dumps(value)
    detail = f'The {field} field refers to value "{shown}" which is not a valid {kind}: $.p'
    assert failure(local) == ("States.Runtime", located(local, "Broken", detail))


# -- JSONata -----------------------------------------------------------------------------------


def jsonata_pass(**fields: Any) -> dict[str, Any]:
    return {"Type": "Pass", "QueryLanguage": "JSONata", "End": True, **fields}


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"Output": {"result": "{% $states.input.nothing %}"}}, "Output/result"),
        ({"Assign": {"x": "{% $states.input.nothing %}"}}, "Assign/x"),
    ],
)
def test_jsonata_that_returns_nothing_names_the_field(fields: dict[str, Any], where: str) -> None:
    local = run(after_a_pass(jsonata_pass(**fields)), {"a": 1})
    detail = (
        f"The JSONata expression '$states.input.nothing' specified for the field '{where}' "
        "returned nothing (undefined)."
    )
    assert failure(local) == ("States.QueryEvaluationError", located(local, "Broken", detail))


# -- Lambda and in-process functions -------------------------------------------------------


class Declined(Exception):
    pass


def test_a_lambda_error_cause_is_compact_json() -> None:
    def charge(event: Any, context: Any) -> Any:
        raise Declined("card declined: insufficient funds")

    local = run(machine({"Charge": lambda_task("charge", End=True)}), {}, {"charge": charge})
    error, cause = failure(local)
    assert error == "Declined"
    assert cause is not None
    assert cause.startswith(
        '{"errorMessage":"card declined: insufficient funds","errorType":"Declined"'
    )
    assert json.loads(cause)["errorType"] == "Declined"
    assert ", " not in cause.split('"stackTrace"')[0] and '": ' not in cause


def test_a_function_still_running_at_its_timeout_fails_with_states_timeout() -> None:
    release = threading.Event()

    def slow(event: Any, context: Any) -> Any:
        release.wait(30)
        return "too late"

    definition = machine(
        {
            "Slow": lambda_task(
                "slow",
                TimeoutSeconds=1,
                Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}],
                End=True,
            ),
            "TimedOut": {"Type": "Pass", "End": True},
        }
    )
    try:
        local = run(definition, {}, {"slow": slow})
    finally:
        release.set()
    assert local.execution.status == "SUCCEEDED"
    assert local.execution.output["Error"] == "States.Timeout"
    assert of_type(local.history, "LambdaFunctionTimedOut")
    assert not of_type(local.history, "LambdaFunctionSucceeded")


def test_a_function_within_its_timeout_answers_as_usual() -> None:
    definition = machine({"Quick": lambda_task("quick", TimeoutSeconds=5, End=True)})
    local = run(definition, {"n": 1}, {"quick": lambda event, context: event["n"] + 1})
    assert local.execution.output == 2
