"""Small things a definition written for AWS relies on: the context object's fields, the
paths Jayway JsonPath accepts, where a Choice rule may carry a Comment, and the size
refusal of an execution input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.cli.main import main
from stepstream.asl.machine import load_machine
from tests.engine.support import lambda_task, machine, run

# -- the context object ------------------------------------------------------------------------


def context_in(state: dict[str, Any], functions: Any = None) -> dict[str, Any]:
    local = run(machine({"Look": {**state, "End": True}}), {"k": 1}, functions)
    assert local.execution.status == "SUCCEEDED", local.execution.cause
    output: dict[str, Any] = local.execution.output
    return output


def test_the_execution_fields_of_the_context_object() -> None:
    output = context_in({"Type": "Pass", "Parameters": {"execution.$": "$$.Execution"}})
    execution = output["execution"]
    assert set(execution) == {"Id", "Input", "Name", "RedriveCount", "RoleArn", "StartTime"}
    assert execution["Input"] == {"k": 1}
    assert execution["RedriveCount"] == 0


def test_a_pass_state_has_no_retry_count() -> None:
    output = context_in({"Type": "Pass", "Parameters": {"state.$": "$$.State"}})
    assert set(output["state"]) == {"EnteredTime", "Name"}


def test_a_state_that_can_retry_counts_its_retries() -> None:
    attempts: list[int] = []

    def flaky(event: Any, context: Any) -> Any:
        attempts.append(event["retries"])
        if len(attempts) < 3:
            raise TimeoutError("try again")
        return event

    task = lambda_task(
        "flaky",
        Parameters={"retries.$": "$$.State.RetryCount", "state.$": "$$.State"},
        Retry=[{"ErrorEquals": ["TimeoutError"], "IntervalSeconds": 1, "MaxAttempts": 3}],
    )
    output = context_in(task, {"flaky": flaky})
    assert attempts == [0, 1, 2]
    assert set(output["state"]) == {"EnteredTime", "Name", "RetryCount"}


# -- JSONPath --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("$['a\"b']", 'a"b'),
        ("$['it\\'s']", "it's"),
        ('$["say \\"hi\\""]', 'say "hi"'),
        ("$['back\\\\slash']", "back\\slash"),
    ],
)
def test_bracket_keys_with_escaped_quotes(path: str, key: str) -> None:
    local = run(
        machine({"Pick": {"Type": "Pass", "Parameters": {"v.$": path}, "End": True}}), {key: 7}
    )
    assert local.execution.output == {"v": 7}


@pytest.mark.parametrize(
    "path", ["$.missing[*]", "$.missing[1:3]", "$.text[*]", "$.text[0:2]", "$.n[*].x"]
)
def test_a_wildcard_or_slice_over_nothing_selects_an_empty_list_in_parameters(path: str) -> None:
    local = run(
        machine({"Pick": {"Type": "Pass", "Parameters": {"v.$": path}, "End": True}}),
        {"text": "abc", "n": 5},
    )
    assert local.execution.output == {"v": []}


_KEY_CHARS = st.sampled_from(list("ab'\"\\ .$[]*?@"))


@settings(max_examples=60, deadline=None)
@given(st.text(_KEY_CHARS, min_size=1, max_size=6), st.sampled_from(["'", '"']))
def test_any_key_can_be_named_in_brackets_once_escaped(key: str, quote: str) -> None:
    escaped = key.replace("\\", "\\\\").replace(quote, "\\" + quote)
    path = f"$[{quote}{escaped}{quote}]"
    local = run(
        machine({"Pick": {"Type": "Pass", "Parameters": {"v.$": path}, "End": True}}),
        {key: "found", "other": 0},
    )
    assert local.execution.output == {"v": "found"}


# -- Choice rules --------------------------------------------------------------------------


def test_a_comment_is_accepted_in_any_choice_rule() -> None:
    rule = {
        "Comment": "big orders of a known kind",
        "And": [
            {"Comment": "big", "Variable": "$.n", "NumericGreaterThan": 10},
            {"Not": {"Comment": "known", "Variable": "$.kind", "IsNull": True}},
        ],
        "Next": "Big",
    }
    definition = machine(
        {
            "Route": {"Type": "Choice", "Choices": [rule], "Default": "Small"},
            "Big": {"Type": "Pass", "Result": "big", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "End": True},
        }
    )
    load_machine(definition)
    assert run(definition, {"n": 11, "kind": "mug"}).execution.output == "big"
    assert run(definition, {"n": 11, "kind": None}).execution.output == "small"


# -- the execution input -------------------------------------------------------------------


def test_stepstream_run_refuses_an_input_over_256_kib(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    definition = tmp_path / "pass.json"
    definition.write_text(json.dumps(machine({"P": {"Type": "Pass", "End": True}})))
    code = main(["run", str(definition), "--input", json.dumps({"pad": "x" * 262_144})])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "InvalidExecutionInput" in captured.err and "262154 bytes" in captured.err
