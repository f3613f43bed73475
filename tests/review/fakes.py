"""The execution side of the Step Functions API, in memory, for the desk's tests."""

from __future__ import annotations

import json
from typing import Any

from stepstream.api.errors import ApiError


class FakeExecutions:
    """Executions, the task tokens still waiting, and every answer sent, inspectable.

    Behaves as the real client does: a token whose task no longer waits is refused with
    TaskTimedOut, and an unknown execution with ExecutionDoesNotExist.
    """

    def __init__(self) -> None:
        self.descriptions: dict[str, dict[str, Any]] = {}
        self.histories: dict[str, list[dict[str, Any]]] = {}
        self.waiting: set[str] = set()
        self.answers: list[tuple[str, Any]] = []
        self.outage: Exception | None = None
        self._arns: dict[str, str] = {}

    def add(self, arn: str, status: str, entered: list[tuple[str, str]], **extra: Any) -> None:
        """An execution whose history entered ``(state, scope)`` pairs in order."""
        self.descriptions[arn] = {"executionArn": arn, "status": status, **extra}
        self.histories[arn] = [
            {
                "type": "TaskStateEntered",
                "stateEnteredEventDetails": {"name": name},
                **({"scope": scope} if scope else {}),
            }
            for name, scope in entered
        ]

    def schedule(self, arn: str, task_token: str) -> None:
        """The execution now waits on a task with ``task_token`` (as its history records)."""
        self.histories[arn].append(
            {"type": "TaskScheduled", "taskScheduledEventDetails": {"taskToken": task_token}}
        )
        self.waiting.add(task_token)
        self._arns[task_token] = arn

    async def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        if execution_arn not in self.descriptions:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")
        return self.descriptions[execution_arn]

    async def get_execution_history(
        self, execution_arn: str, *, reverse: bool = False
    ) -> dict[str, Any]:
        await self.describe_execution(execution_arn)
        events = self.histories[execution_arn]
        return {"events": events[::-1] if reverse else list(events)}

    async def send_task_success(self, task_token: str, output_text: str) -> dict[str, Any]:
        if self.outage is not None:
            raise self.outage
        if task_token not in self.waiting:
            raise ApiError("TaskTimedOut", "Task Timed Out: the task no longer waits")
        self.waiting.discard(task_token)
        self.answers.append((task_token, json.loads(output_text)))
        if task_token in self._arns:
            self.histories[self._arns[task_token]].append(
                {"type": "TaskSucceeded", "taskSucceededEventDetails": {"output": output_text}}
            )
        return {}
