"""boto3 against a running stack: every operation served, with AWS's shapes and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.step_functions_api.support import (
    CALLBACK_BINDINGS,
    FAIL,
    PASS,
    ROLE,
    UNSERVED_LAMBDA,
    WAITER,
    check_answer,
    sfn,
    status_of,
    token_of,
)


@pytest.fixture(scope="module")
def client(endpoint: str) -> Any:
    return sfn(endpoint)


def create(client: Any, name: str, definition: dict[str, Any], **extra: Any) -> str:
    created = client.create_state_machine(
        name=name, definition=json.dumps(definition), roleArn=ROLE, **extra
    )
    arn: str = created["stateMachineArn"]
    return arn


def callback_machine(client: Any, name: str) -> str:
    tag = {"key": "stepstream:bindings", "value": json.dumps(CALLBACK_BINDINGS)}
    return create(client, name, WAITER, tags=[tag])


def code_of(raised: pytest.ExceptionInfo[ClientError]) -> str:
    code: str = raised.value.response["Error"]["Code"]
    return code


def test_a_state_machine_is_created_described_listed_and_paged(client: Any) -> None:
    arn = create(client, "B3Pass", PASS)
    assert create(client, "B3Pass", PASS) == arn  # the same again is the same machine
    create(client, "B3Fail", FAIL)

    described = client.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["status"], described["type"]) == (
        "B3Pass",
        "ACTIVE",
        "STANDARD",
    )
    assert json.loads(described["definition"]) == PASS

    first = client.list_state_machines(maxResults=1)
    assert len(first["stateMachines"]) == 1 and "nextToken" in first
    names = [m["name"] for m in first["stateMachines"]]
    token = first["nextToken"]
    while token:
        page = client.list_state_machines(maxResults=1, nextToken=token)
        names += [m["name"] for m in page["stateMachines"]]
        token = page.get("nextToken")
    assert {"B3Pass", "B3Fail"} <= set(names) and len(names) == len(set(names))
    every = client.get_paginator("list_state_machines").paginate(PaginationConfig={"PageSize": 1})
    assert [m["name"] for p in every for m in p["stateMachines"]] == names


def test_creation_refuses_what_aws_refuses(client: Any) -> None:
    create(client, "B3Taken", PASS)
    with pytest.raises(ClientError) as taken:
        create(client, "B3Taken", FAIL)
    assert code_of(taken) == "StateMachineAlreadyExists"
    with pytest.raises(ClientError) as invalid:
        create(client, "B3Broken", {"StartAt": "Nowhere", "States": {}})
    assert code_of(invalid) == "InvalidDefinition"
    assert "Nowhere" in invalid.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as badly_named:
        create(client, "has spaces", PASS)
    assert code_of(badly_named) == "InvalidName"
    with pytest.raises(ClientError) as unbound:
        create(client, "B3Unbound", WAITER)  # nothing binds the SQS resource
    assert code_of(unbound) == "InvalidBindings"


def test_validation_is_the_service_models(endpoint: str) -> None:
    unchecked = sfn(endpoint, parameter_validation=False)
    with pytest.raises(ClientError) as raised:
        unchecked.create_state_machine(name="B3NoRole", definition=json.dumps(PASS))
    assert code_of(raised) == "ValidationException"
    message = raised.value.response["Error"]["Message"]
    assert "Value null at 'roleArn' failed to satisfy constraint" in message
    with pytest.raises(ClientError) as raised:
        unchecked.list_executions(statusFilter="SLEEPING")
    assert code_of(raised) == "ValidationException"
    assert "Member must satisfy enum value set" in raised.value.response["Error"]["Message"]


def test_validate_state_machine_definition(client: Any) -> None:
    good = client.validate_state_machine_definition(definition=json.dumps(PASS))
    assert (good["result"], good["diagnostics"]) == ("OK", [])
    bad = client.validate_state_machine_definition(
        definition=json.dumps({"StartAt": "Nowhere", "States": {}})
    )
    assert bad["result"] == "FAIL"
    assert bad["diagnostics"] and bad["diagnostics"][0]["severity"] == "ERROR"


def test_executions_start_describe_list_and_page(client: Any) -> None:
    arn = create(client, "B3Runs", PASS)
    started = [
        client.start_execution(stateMachineArn=arn, name=f"run-{n}", input=json.dumps({"n": n}))
        for n in range(3)
    ]
    for run in started:
        done = status_of(client, run["executionArn"], "SUCCEEDED")
        assert json.loads(done["output"])["greeting"] == "hello"
    again = client.start_execution(stateMachineArn=arn, name="run-0", input=json.dumps({"n": 0}))
    assert again["executionArn"] == started[0]["executionArn"]
    with pytest.raises(ClientError) as clash:
        client.start_execution(stateMachineArn=arn, name="run-0", input="{}")
    assert code_of(clash) == "ExecutionAlreadyExists"

    pages = list(
        client.get_paginator("list_executions").paginate(
            stateMachineArn=arn, statusFilter="SUCCEEDED", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["executions"]) for p in pages] == [2, 1]
    listed = {e["name"] for p in pages for e in p["executions"]}
    assert listed == {"run-0", "run-1", "run-2"}
    assert client.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []
    redriven = client.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")
    assert redriven["executions"] == []
    not_redriven = client.list_executions(stateMachineArn=arn, redriveFilter="NOT_REDRIVEN")
    assert len(not_redriven["executions"]) == 3


def test_execution_history_pages_reverses_and_leaves_out_data(client: Any) -> None:
    arn = create(client, "B3History", PASS)
    run = client.start_execution(stateMachineArn=arn, input=json.dumps({"secret": "s3cr3t"}))
    status_of(client, run["executionArn"], "SUCCEEDED")
    history = client.get_execution_history(executionArn=run["executionArn"])["events"]
    types = [e["type"] for e in history]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"

    pages = client.get_paginator("get_execution_history").paginate(
        executionArn=run["executionArn"], PaginationConfig={"PageSize": 2}
    )
    assert [e["id"] for p in pages for e in p["events"]] == [e["id"] for e in history]
    backwards = client.get_execution_history(executionArn=run["executionArn"], reverseOrder=True)
    assert [e["id"] for e in backwards["events"]] == [e["id"] for e in reversed(history)]
    bare = client.get_execution_history(
        executionArn=run["executionArn"], includeExecutionData=False
    )
    assert "s3cr3t" not in json.dumps(bare["events"], default=str)
    assert "s3cr3t" in json.dumps(history, default=str)


def test_a_failed_execution_says_why_and_can_be_redriven(client: Any) -> None:
    arn = create(client, "B3Fails", FAIL)
    run = client.start_execution(stateMachineArn=arn)["executionArn"]
    failed = status_of(client, run, "FAILED")
    assert (failed["error"], failed["cause"]) == ("Boom", "on purpose")
    assert failed["redriveCount"] == 0

    redriven = client.redrive_execution(executionArn=run, clientToken="once")
    repeated = client.redrive_execution(executionArn=run, clientToken="once")
    assert repeated["redriveDate"] == redriven["redriveDate"]  # the same token, one redrive
    again = status_of(client, run, "FAILED")  # its Fail state fails it again
    assert again["redriveCount"] == 1 and again["redriveDate"] == redriven["redriveDate"]
    listed = client.list_executions(stateMachineArn=arn, redriveFilter="REDRIVEN")
    assert [e["executionArn"] for e in listed["executions"]] == [run]

    succeeded = client.start_execution(stateMachineArn=create(client, "B3Fine", PASS))
    status_of(client, succeeded["executionArn"], "SUCCEEDED")
    with pytest.raises(ClientError) as raised:
        client.redrive_execution(executionArn=succeeded["executionArn"])
    assert code_of(raised) == "ExecutionNotRedrivable"


def test_callbacks_answer_a_waiting_task(client: Any) -> None:
    arn = callback_machine(client, "B3Waits")
    succeeding = client.start_execution(stateMachineArn=arn)["executionArn"]
    failing = client.start_execution(stateMachineArn=arn)["executionArn"]
    token = token_of(client, succeeding)
    client.send_task_heartbeat(taskToken=token)
    client.send_task_success(taskToken=token, output=json.dumps({"answer": 42}))
    assert json.loads(status_of(client, succeeding, "SUCCEEDED")["output"]) == {"answer": 42}

    client.send_task_failure(taskToken=token_of(client, failing), error="No", cause="declined")
    failed = status_of(client, failing, "FAILED")
    assert (failed["error"], failed["cause"]) == ("No", "declined")

    with pytest.raises(ClientError) as stale:
        client.send_task_success(taskToken=token, output="{}")
    assert code_of(stale) == "TaskTimedOut"
    with pytest.raises(ClientError) as forged:
        client.send_task_heartbeat(taskToken="not-a-token")
    assert code_of(forged) == "InvalidToken"
    with pytest.raises(ClientError) as bad_output:
        client.send_task_success(taskToken=token, output="{not json")
    assert code_of(bad_output) == "InvalidOutput"


def test_an_update_is_a_new_version_and_running_executions_keep_theirs(client: Any) -> None:
    arn = callback_machine(client, "B3Versions")
    before = client.start_execution(stateMachineArn=arn)["executionArn"]
    changed = json.loads(json.dumps(WAITER))
    changed["States"]["Ask"]["Comment"] = "version two"
    updated = client.update_state_machine(stateMachineArn=arn, definition=json.dumps(changed))
    assert (
        updated["revisionId"]
        != client.describe_state_machine_for_execution(executionArn=before)["revisionId"]
    )
    after = client.start_execution(stateMachineArn=arn)["executionArn"]

    old = client.describe_state_machine_for_execution(executionArn=before)
    new = client.describe_state_machine_for_execution(executionArn=after)
    assert json.loads(old["definition"]) == WAITER
    assert json.loads(new["definition"]) == changed
    assert new["revisionId"] == updated["revisionId"]
    # A version ARN starts that version, as on AWS.
    first_version = client.describe_execution(executionArn=before)["stateMachineVersionArn"]
    pinned = client.start_execution(stateMachineArn=first_version)["executionArn"]
    pinned_machine = client.describe_state_machine_for_execution(executionArn=pinned)
    assert json.loads(pinned_machine["definition"]) == WAITER
    with pytest.raises(ClientError) as no_such_version:
        client.start_execution(stateMachineArn=f"{arn}:99")
    assert code_of(no_such_version) == "StateMachineDoesNotExist"
    # All still answer their callbacks: the update kept the tag's bindings.
    for run in (before, after, pinned):
        client.send_task_success(taskToken=token_of(client, run), output="{}")
        status_of(client, run, "SUCCEEDED")


def test_stop_aborts_a_running_execution_and_lambda_binds_by_name(client: Any) -> None:
    arn = create(client, "B3Stops", UNSERVED_LAMBDA)
    run = client.start_execution(stateMachineArn=arn)["executionArn"]
    stopped = client.stop_execution(executionArn=run, error="Enough", cause="waited")
    assert stopped["stopDate"]
    aborted = status_of(client, run, "ABORTED")
    assert "stopDate" in aborted


def test_delete_removes_the_machine_and_its_executions_go_on(client: Any) -> None:
    arn = callback_machine(client, "B3Deleted")
    running = client.start_execution(stateMachineArn=arn)["executionArn"]
    client.delete_state_machine(stateMachineArn=arn)
    client.delete_state_machine(stateMachineArn=arn)  # deleting again is no error

    with pytest.raises(ClientError) as gone:
        client.describe_state_machine(stateMachineArn=arn)
    assert code_of(gone) == "StateMachineDoesNotExist"
    with pytest.raises(ClientError) as not_startable:
        client.start_execution(stateMachineArn=arn)
    assert code_of(not_startable) == "StateMachineDoesNotExist"
    names = [m["name"] for m in client.list_state_machines()["stateMachines"]]
    assert "B3Deleted" not in names
    client.send_task_success(taskToken=token_of(client, running), output="{}")
    status_of(client, running, "SUCCEEDED")


def test_unknown_things_get_aws_errors(client: Any) -> None:
    missing = "arn:aws:states:local:000000000000:execution:Nope:nothing"
    for call in (
        lambda: client.describe_execution(executionArn=missing),
        lambda: client.get_execution_history(executionArn=missing),
        lambda: client.stop_execution(executionArn=missing),
        lambda: client.describe_state_machine_for_execution(executionArn=missing),
        lambda: client.redrive_execution(executionArn=missing),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert code_of(raised) == "ExecutionDoesNotExist"
    with pytest.raises(ClientError) as raised:
        client.describe_execution(executionArn="arn:aws:states:local:000000000000:nope")
    assert code_of(raised) == "InvalidArn"
    with pytest.raises(ClientError) as raised:
        client.start_execution(stateMachineArn="arn:aws:sqs:us-east-1:1:queue")
    assert code_of(raised) == "InvalidArn"
    listed = create(client, "B3Listed", PASS)
    with pytest.raises(ClientError) as raised:
        client.list_executions(stateMachineArn=listed, nextToken="bm90IG91cnM=")
    assert code_of(raised) == "InvalidToken"
    with pytest.raises(ClientError) as raised:
        client.update_state_machine(
            stateMachineArn="arn:aws:states:local:000000000000:stateMachine:Nope",
            definition=json.dumps(PASS),
        )
    assert code_of(raised) == "StateMachineDoesNotExist"
    # An operation of the service this stack does not serve: a client error, not a 500.
    with pytest.raises(ClientError) as raised:
        client.create_activity(name="workers")
    assert code_of(raised) == "UnknownOperationException"


def test_the_answer_check_refuses_an_answer_out_of_shape() -> None:
    class Answer:
        status_code = 200

    model = sfn("http://127.0.0.1:1").meta.service_model.operation_model("StartExecution")
    with pytest.raises(AssertionError, match="startDate"):
        check_answer(Answer(), {"executionArn": "arn"}, model)
