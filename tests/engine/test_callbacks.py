"""The callback pattern: a `.waitForTaskToken` task hands $$.Task.Token to its worker and
waits until someone answers with send_task_success or send_task_failure (or keeps it alive
with send_task_heartbeat). From the Step Functions guide ("Callback pattern"): a token
that is not a task token is refused as an invalid token, and one whose task is no longer
waiting (answered, failed, timed out) is refused as timed out.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from stepstream.asl.execution import TaskNotPending
from stepstream.asl.local import LocalRunner
from stepstream.asl.tokens import InvalidToken, encode_token
from tests.engine.support import (
    CALLBACK_RESOURCE,
    Inbox,
    callback_task,
    details,
    entered,
    machine,
    of_type,
    run,
    runner,
    types,
)


def waiting(definition: dict[str, Any], execution_input: Any = None) -> tuple[LocalRunner, Inbox]:
    inbox = Inbox()
    local = runner(definition, {"publish": inbox})
    local.run({} if execution_input is None else execution_input)
    return local, inbox


REVIEW = machine({"Review": callback_task(End=True)})


def test_the_worker_gets_the_token_and_the_execution_waits() -> None:
    local, inbox = waiting(REVIEW, {"order": 9})
    assert local.execution.status == "RUNNING"
    [message] = inbox.received
    assert message["input"] == {"order": 9}
    [pending] = local.execution.pending_tasks()
    assert pending.token == message["token"]
    [scheduled] = of_type(local.history, "TaskScheduled")
    assert details(scheduled)["taskToken"] == message["token"]
    assert details(scheduled)["resource"] == "invoke.waitForTaskToken"


def test_success_continues_with_the_answer_as_the_result() -> None:
    local, inbox = waiting(REVIEW)
    local.send_task_success(inbox.tokens[0], {"decision": "approve"})
    assert local.result() == {
        "status": "SUCCEEDED",
        "output": {"decision": "approve"},
        "error": None,
        "cause": None,
    }


def test_the_task_starts_when_handed_over_and_succeeds_when_answered() -> None:
    local, inbox = waiting(REVIEW)
    local.advance(45)
    local.send_task_success(inbox.tokens[0], "ok")
    started = of_type(local.history, "TaskStarted")[0]
    succeeded = of_type(local.history, "TaskSucceeded")[0]
    assert (started.timestamp - local.history[0].timestamp).total_seconds() == 0
    assert (succeeded.timestamp - local.history[0].timestamp).total_seconds() == 45
    assert types(local.history) == [
        "ExecutionStarted",
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskSucceeded",
        "TaskStateExited",
        "ExecutionSucceeded",
    ]


def test_the_answer_goes_through_result_selector_and_result_path() -> None:
    definition = machine(
        {
            "Review": callback_task(
                ResultSelector={"verdict.$": "$.decision"}, ResultPath="$.review", End=True
            )
        }
    )
    local, inbox = waiting(definition, {"order": 9})
    local.send_task_success(inbox.tokens[0], {"decision": "approve", "by": "ann"})
    assert local.execution.output == {"order": 9, "review": {"verdict": "approve"}}


def test_failure_fails_the_task_with_the_given_error_and_cause() -> None:
    local, inbox = waiting(REVIEW)
    local.send_task_failure(inbox.tokens[0], "Rejected", "the operator said no")
    assert (local.execution.error, local.execution.cause) == ("Rejected", "the operator said no")
    [failed] = of_type(local.history, "TaskFailed")
    assert (details(failed)["error"], details(failed)["cause"]) == (
        "Rejected",
        "the operator said no",
    )


def test_a_failure_answer_is_caught_like_any_error() -> None:
    definition = machine(
        {
            "Review": callback_task(
                Catch=[{"ErrorEquals": ["Rejected"], "Next": "Refund"}], End=True
            ),
            "Refund": {"Type": "Pass", "End": True},
        }
    )
    local, inbox = waiting(definition)
    local.send_task_failure(inbox.tokens[0], "Rejected", "no")
    assert entered(local.history) == ["Review", "Refund"]
    assert local.execution.output == {"Error": "Rejected", "Cause": "no"}


def test_a_retry_hands_out_a_new_token_and_the_old_one_is_stale() -> None:
    definition = machine(
        {"Review": callback_task(Retry=[{"ErrorEquals": ["Busy"], "IntervalSeconds": 5}], End=True)}
    )
    local, inbox = waiting(definition)
    first = inbox.tokens[0]
    local.send_task_failure(first, "Busy", "try again")
    local.run_until_idle()
    assert len(inbox.tokens) == 2
    second = inbox.tokens[1]
    assert second != first
    with pytest.raises(TaskNotPending):
        local.send_task_success(first, "old")
    local.send_task_success(second, "new")
    assert local.execution.output == "new"


def test_a_garbage_token_is_refused_as_invalid() -> None:
    local, _ = waiting(REVIEW)
    with pytest.raises(InvalidToken, match="Invalid Token"):
        local.send_task_success("not-a-token", 1)
    with pytest.raises(InvalidToken):
        local.send_task_failure("", "E", "c")
    assert local.execution.status == "RUNNING"


def test_a_token_of_another_execution_is_refused_as_invalid() -> None:
    _, other_inbox = waiting(REVIEW)
    inbox = Inbox()
    local = runner(REVIEW, {"publish": inbox})
    local.execution.state.execution_arn += "-second"
    local.run({})
    with pytest.raises(InvalidToken, match="another execution"):
        local.send_task_success(other_inbox.tokens[0], 1)


def test_an_answered_token_is_stale() -> None:
    local, inbox = waiting(REVIEW)
    local.send_task_success(inbox.tokens[0], 1)
    with pytest.raises(TaskNotPending, match="Task Timed Out"):
        local.send_task_success(inbox.tokens[0], 2)
    with pytest.raises(TaskNotPending):
        local.send_task_heartbeat(inbox.tokens[0])
    assert local.execution.output == 1


def test_a_heartbeat_without_heartbeat_seconds_is_accepted_and_changes_nothing() -> None:
    local, inbox = waiting(REVIEW)
    local.send_task_heartbeat(inbox.tokens[0])
    assert local.execution.status == "RUNNING"
    local.send_task_success(inbox.tokens[0], "ok")
    assert local.execution.output == "ok"


def test_callbacks_in_parallel_branches_may_be_answered_in_any_order() -> None:
    branches = [
        {"StartAt": name, "States": {name: callback_task(End=True)}} for name in ("Ask A", "Ask B")
    ]
    definition = machine(
        {
            "Both": {
                "Type": "Parallel",
                "Branches": branches,
                "Parameters": {"who.$": "$$.State.Name"},
                "End": True,
            }
        }
    )
    local, inbox = waiting(definition)
    first, second = inbox.tokens
    local.send_task_success(second, "second")
    assert local.execution.status == "RUNNING"
    local.send_task_success(first, "first")
    assert local.execution.output == ["first", "second"]


def test_the_token_may_be_placed_anywhere_in_the_parameters() -> None:
    inbox = Inbox()
    task = {
        "Type": "Task",
        "Resource": CALLBACK_RESOURCE,
        "Parameters": {
            "FunctionName": "publish",
            "Payload": {"ticket": {"callback.$": "$$.Task.Token"}, "input": 0},
        },
        "End": True,
    }
    local = run(machine({"Ask": task}), {}, {"publish": inbox})
    [message] = inbox.received
    local.send_task_success(message["ticket"]["callback"], "done")
    assert local.execution.output == "done"


def test_a_failure_without_error_or_cause_fails_without_them() -> None:
    local, inbox = waiting(REVIEW)
    local.send_task_failure(inbox.tokens[0])
    assert local.result() == {"status": "FAILED", "output": None, "error": None, "cause": None}


def test_a_queue_callback_with_no_local_binding_waits_for_its_token() -> None:
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {
            "QueueUrl": "https://queue.local/review",
            "MessageBody": {"token.$": "$$.Task.Token"},
        },
        "End": True,
    }
    local = run(machine({"Ticket": task}))
    assert local.execution.status == "RUNNING"
    [scheduled] = of_type(local.history, "TaskScheduled")
    assert (details(scheduled)["resourceType"], details(scheduled)["resource"]) == (
        "sqs",
        "sendMessage.waitForTaskToken",
    )
    assert "TaskStarted" in types(local.history)
    local.send_task_success(details(scheduled)["taskToken"], {"decision": "retry"})
    assert local.execution.output == {"decision": "retry"}


def test_a_forged_token_for_a_waiting_task_is_refused_as_invalid() -> None:
    local, inbox = waiting(REVIEW)
    arn, task_id, _secret = json.loads(_unpadded_b64decode(inbox.tokens[0]))
    forged = encode_token(arn, task_id, "guessed")
    with pytest.raises(InvalidToken, match="Invalid Token"):
        local.send_task_success(forged, "forged")
    assert local.execution.status == "RUNNING"
    local.send_task_success(inbox.tokens[0], "genuine")
    assert local.execution.output == "genuine"


def _unpadded_b64decode(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
