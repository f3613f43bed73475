"""The AWS CLI against a running stack: `aws --endpoint-url ... stepfunctions ...`, every
operation served, answers in botocore's output shapes and refusals as AWS words them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from apps.cli.main import main as stepstream
from tests.step_functions_api.support import (
    CALLBACK_BINDINGS,
    FAIL,
    PASS,
    ROLE,
    UNSERVED_LAMBDA,
    WAITER,
    eventually,
)

AWS = str(Path(sys.executable).parent / "aws")
MODEL = botocore.session.get_session().get_service_model("stepfunctions")


class AwsCli:
    """`aws stepfunctions` for one endpoint, with a configuration of its own (dummy keys)."""

    def __init__(self, endpoint: str, home: Path) -> None:
        self.endpoint = endpoint
        (home / "config").write_text("[default]\nregion = us-east-1\noutput = json\n")
        (home / "credentials").write_text(
            "[default]\naws_access_key_id = AKIDCLI\naws_secret_access_key = any\n"
        )
        self.env = {
            "PATH": str(Path(sys.executable).parent),
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
        }

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AWS, "--endpoint-url", self.endpoint, "stepfunctions", command, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def __call__(self, command: str, *args: str) -> dict[str, Any]:
        """The operation's answer, checked against its output shape in the service model."""
        done = self.run(command, *args)
        assert done.returncode == 0, done.stderr
        answer: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
        operation = "".join(part.title() for part in command.split("-"))
        # NextToken (capitalised) is the CLI's own paging token, not the service's.
        shaped = {k: v for k, v in answer.items() if k != "NextToken"}
        report = ParamValidator().validate(shaped, MODEL.operation_model(operation).output_shape)
        assert not report.has_errors(), report.generate_report()
        return answer

    def refused(self, command: str, *args: str) -> str:
        """The stderr of a refused call: `An error occurred (Code) when calling ...`."""
        done = self.run(command, *args)
        assert done.returncode != 0, done.stdout
        return done.stderr


@pytest.fixture(scope="module")
def aws(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> AwsCli:
    return AwsCli(endpoint, tmp_path_factory.mktemp("aws-home"))


def _status(aws: AwsCli, arn: str, wanted: str) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        described = aws("describe-execution", "--execution-arn", arn)
        return described if described["status"] == wanted else None

    return eventually(reached)


def test_state_machines_through_the_aws_cli(aws: AwsCli, tmp_path: Path) -> None:
    definition = tmp_path / "pass.asl.json"
    definition.write_text(json.dumps(PASS))
    created = aws(
        "create-state-machine",
        "--name",
        "CliPass",
        "--definition",
        f"file://{definition}",
        "--role-arn",
        ROLE,
    )
    arn = created["stateMachineArn"]
    aws(
        "create-state-machine",
        "--name",
        "CliFail",
        "--definition",
        json.dumps(FAIL),
        "--role-arn",
        ROLE,
    )
    assert aws("describe-state-machine", "--state-machine-arn", arn)["name"] == "CliPass"
    first = aws("list-state-machines", "--max-items", "1")
    assert len(first["stateMachines"]) == 1 and first["NextToken"]
    paged = aws("list-state-machines", "--page-size", "1")
    assert {"CliPass", "CliFail"} <= {m["name"] for m in paged["stateMachines"]}
    checked = aws("validate-state-machine-definition", "--definition", json.dumps(FAIL))
    assert checked["result"] == "OK"

    changed = {**PASS, "Comment": "two"}
    updated = aws(
        "update-state-machine", "--state-machine-arn", arn, "--definition", json.dumps(changed)
    )
    assert updated["revisionId"] == "2"
    refusal = aws.refused(
        "create-state-machine",
        "--name",
        "CliPass",
        "--definition",
        json.dumps(FAIL),
        "--role-arn",
        ROLE,
    )
    assert "(StateMachineAlreadyExists)" in refusal
    aws("delete-state-machine", "--state-machine-arn", arn)
    assert "(StateMachineDoesNotExist)" in aws.refused(
        "describe-state-machine", "--state-machine-arn", arn
    )


def test_executions_and_callbacks_through_the_aws_cli(aws: AwsCli) -> None:
    tag = json.dumps([{"key": "stepstream:bindings", "value": json.dumps(CALLBACK_BINDINGS)}])
    arn = aws(
        "create-state-machine",
        "--name",
        "CliWaits",
        "--definition",
        json.dumps(WAITER),
        "--role-arn",
        ROLE,
        "--tags",
        tag,
    )["stateMachineArn"]
    started = aws(
        "start-execution", "--state-machine-arn", arn, "--name", "first", "--input", '{"order": 1}'
    )
    run = started["executionArn"]
    assert aws("describe-state-machine-for-execution", "--execution-arn", run)["name"] == "CliWaits"

    def token() -> str | None:
        history = aws("get-execution-history", "--execution-arn", run)["events"]
        scheduled = [e for e in history if e["type"] == "TaskScheduled"]
        if not scheduled:
            return None
        parameters = json.loads(scheduled[0]["taskScheduledEventDetails"]["parameters"])
        found: str = parameters["MessageBody"]["token"]
        return found

    task_token = eventually(token)
    aws("send-task-heartbeat", "--task-token", task_token)
    aws("send-task-success", "--task-token", task_token, "--task-output", '{"ok": true}')
    assert json.loads(_status(aws, run, "SUCCEEDED")["output"]) == {"ok": True}
    history = aws(
        "get-execution-history",
        "--execution-arn",
        run,
        "--reverse-order",
        "--no-include-execution-data",
        "--max-items",
        "2",
    )
    assert history["events"][0]["type"] == "ExecutionSucceeded" and history["NextToken"]

    second = aws("start-execution", "--state-machine-arn", arn)["executionArn"]
    aws(
        "send-task-failure",
        "--task-token",
        eventually(lambda: _token_of(aws, second)),
        "--error",
        "No",
        "--cause",
        "declined",
    )
    assert _status(aws, second, "FAILED")["error"] == "No"
    listed = aws("list-executions", "--state-machine-arn", arn, "--status-filter", "FAILED")
    assert [e["name"] for e in listed["executions"]] == [second.rsplit(":", 1)[1]]
    newest = aws("list-executions", "--state-machine-arn", arn, "--max-items", "1")
    assert [e["executionArn"] for e in newest["executions"]] == [second]
    rest = aws(
        "list-executions", "--state-machine-arn", arn, "--starting-token", newest["NextToken"]
    )
    assert [e["executionArn"] for e in rest["executions"]] == [run]
    assert "(ExecutionNotRedrivable)" in aws.refused("redrive-execution", "--execution-arn", run)
    assert aws("redrive-execution", "--execution-arn", second)["redriveDate"]
    assert _status(aws, second, "RUNNING")["redriveCount"] == 1

    machine = aws(
        "create-state-machine",
        "--name",
        "CliStops",
        "--definition",
        json.dumps(UNSERVED_LAMBDA),
        "--role-arn",
        ROLE,
    )["stateMachineArn"]
    stopping = aws("start-execution", "--state-machine-arn", machine)["executionArn"]
    assert aws("stop-execution", "--execution-arn", stopping)["stopDate"]
    _status(aws, stopping, "ABORTED")
    assert "(InvalidToken)" in aws.refused("send-task-heartbeat", "--task-token", "forged")


def _token_of(aws: AwsCli, run: str) -> str | None:
    for event in aws("get-execution-history", "--execution-arn", run)["events"]:
        if event["type"] == "TaskScheduled":
            found: str = json.loads(event["taskScheduledEventDetails"]["parameters"])[
                "MessageBody"
            ]["token"]
            return found
    return None


def test_the_stepstream_verbs_are_the_same_api(
    endpoint: str, stack_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps({"StartAt": "Nowhere", "States": {}}))
    folder = ["--data-dir", str(stack_folder)]
    assert stepstream(["create-state-machine", "Broken", "--definition", str(broken), *folder]) == 1
    refusal = json.loads(capsys.readouterr().err)
    from_http = AwsCli(endpoint, tmp_path).refused(
        "create-state-machine",
        "--name",
        "Broken",
        "--definition",
        broken.read_text(),
        "--role-arn",
        ROLE,
    )
    assert refusal["error"] == "InvalidDefinition"
    assert refusal["message"].splitlines()[0] in from_http

    unserved = tmp_path / "unserved.asl.json"
    unserved.write_text(json.dumps(UNSERVED_LAMBDA))
    assert (
        stepstream(["create-state-machine", "Lambdas", "--definition", str(unserved), *folder]) == 0
    )
    capsys.readouterr()
    assert stepstream(["describe-state-machine", "Lambdas", *folder]) == 0
    described = json.loads(capsys.readouterr().out)
    # A Lambda function runs, by default, on the service of its name.
    assert json.loads(described["bindings"])["functions"] == {
        "nobody-serves-this": "nobody-serves-this"
    }
