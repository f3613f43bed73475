"""ListExecutions lists the executions of one state machine (or Map Run), as AWS does:
asked for neither, over HTTP or from the command line, it is refused, not answered with
every execution of every state machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from apps.cli.main import main as stepstream
from tests.step_functions_api.support import PASS, ROLE, sfn, status_of

NEITHER = "1 validation error detected: Must provide a StateMachine ARN or MapRun ARN"


def test_executions_are_listed_only_for_a_state_machine(
    endpoint: str, stack_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = sfn(endpoint)
    machine = client.create_state_machine(
        name="ScopedRuns", definition=json.dumps(PASS), roleArn=ROLE
    )["stateMachineArn"]
    run = client.start_execution(stateMachineArn=machine, name="scoped-1")["executionArn"]
    status_of(client, run, "SUCCEEDED")

    with pytest.raises(ClientError) as refused:
        client.list_executions()
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert refused.value.response["Error"] == {"Code": "ValidationException", "Message": NEITHER}

    assert stepstream(["list-executions", "--data-dir", str(stack_folder)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert json.loads(err) == {"error": "ValidationException", "message": NEITHER}

    listed = client.list_executions(stateMachineArn=machine)["executions"]
    assert [e["executionArn"] for e in listed] == [run]
