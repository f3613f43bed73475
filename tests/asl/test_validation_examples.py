"""Whole machines: real definitions validate clean, broken ones report every problem at once,
and no input, however mangled, makes validation raise."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepstream.asl.validation import validate

from .definitions import problems, stored


def test_the_fulfilment_saga_is_valid() -> None:
    assert problems(stored("fulfilment_saga")) == []


def test_the_error_handling_tutorial_machine_is_valid() -> None:
    assert problems(stored("error_handling_tutorial")) == []


def test_a_jsonata_machine_is_valid() -> None:
    assert problems(stored("jsonata_fulfilment")) == []


def test_many_errors_are_reported_together() -> None:
    saga = stored("fulfilment_saga")
    states = saga["States"]
    states["ChargePayment"]["Retry"][0]["BackoffRate"] = 0.5
    states["ChargePayment"]["Next"] = "ReserveStok"
    states["BookShipment"]["HeartbeatSeconds"] = 30
    states["BookShipment"]["Catch"][0]["Next"] = "Compensation"
    states["EmitReceipt"]["Branches"][1]["States"]["PublishReceiptEvent"]["Resource"] = "putEvents"
    states["ReserveStock"]["ItemProcessor"]["ProcessorConfig"]["Mode"] = "PARALLEL"
    states["WaitForHumanReview"]["Type"] = "Callback"
    states["Stray"] = {"Type": "Wait", "Seconds": 5, "Timestamp": "soon", "End": True}
    del states["ChooseAfterReview"]["Default"]
    saga["TimeoutSeconds"] = 0

    assert [location for location, _ in problems(saga)] == [
        "$.States.BookShipment.Catch[0].Next",
        "$.States.BookShipment.HeartbeatSeconds",
        "$.States.ChargePayment.Next",
        "$.States.ChargePayment.Retry[0].BackoffRate",
        "$.States.EmitReceipt.Branches[1].States.PublishReceiptEvent.Resource",
        "$.States.ReserveStock.ItemProcessor.ProcessorConfig.Mode",
        "$.States.Stray.Timestamp",
        "$.States.Stray.Timestamp",
        "$.States.WaitForHumanReview.Type",
        "$.TimeoutSeconds",
    ]


# Values a careless edit or a hostile caller might put anywhere in a definition.
_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["", "$", "$$", "$.a[", "{% %}", "{% $x( %}", "States.ALL", "Next", "JSONata",
         "INLINE", "DISTRIBUTED", "States.Format('{}', $.x)", "$.a[?(@.b)]", "Call API"]
    ),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["Type", "Next", "End", "States", "StartAt"]), st.none()),
)  # fmt: skip
_FIELD_NAMES = st.sampled_from(
    ["Type", "Next", "End", "StartAt", "States", "Branches", "ItemProcessor", "Choices",
     "Default", "Catch", "Retry", "ErrorEquals", "QueryLanguage", "Parameters", "Arguments",
     "Output", "Assign", "Seconds", "TimeoutSeconds", "HeartbeatSeconds", "ResultPath",
     "Condition", "Variable", "ProcessorConfig", "Mode", "Resource", "Credentials", "Items"]
)  # fmt: skip


def _containers(value: Any) -> list[Any]:
    """Every object and array inside ``value``, ``value`` included."""
    found: list[Any] = []
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            found.append(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            found.append(item)
            pending.extend(item)
    return found


@st.composite
def _mutated_saga(draw: st.DrawFn) -> Any:
    saga: Any = copy.deepcopy(_SAGA)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        containers = _containers(saga)
        target: Any = draw(st.sampled_from(containers))
        if isinstance(target, dict):
            key = draw(st.one_of(_FIELD_NAMES, st.sampled_from(sorted(target) or ["x"])))
            if draw(st.booleans()) and target:
                target.pop(key, None)
            else:
                target[key] = draw(_ODD_VALUES)
        elif draw(st.booleans()) and target:
            target[draw(st.integers(0, len(target) - 1))] = draw(_ODD_VALUES)
        else:
            target.append(draw(_ODD_VALUES))
    return saga


_SAGA = stored("fulfilment_saga")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated_saga())
def test_random_mutations_never_make_validation_raise(definition: Any) -> None:
    errors = validate(definition)
    assert isinstance(errors, list)
    for error in errors:
        assert error.location.startswith("$")
        assert error.message


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        _ODD_VALUES,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_FIELD_NAMES, inner),
        max_leaves=20,
    )
)
def test_any_json_value_gets_an_answer_not_an_exception(definition: Any) -> None:
    assert isinstance(validate(definition), list)
