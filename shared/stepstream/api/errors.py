"""API errors with the names Step Functions gives them."""

from __future__ import annotations


class ApiError(Exception):
    """A refused API call: `code` is the Step Functions error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def as_json(self) -> dict[str, str]:
        return {"error": self.code, "message": self.message}


class ExecutionDoesNotExist(ApiError):
    def __init__(self, execution_arn: str) -> None:
        super().__init__("ExecutionDoesNotExist", f"Execution Does Not Exist: '{execution_arn}'")


class ExecutionNotRedrivable(ApiError):
    """RedriveExecution refused: the message is AWS's ``redriveStatusReason``."""

    def __init__(self, reason: str) -> None:
        super().__init__("ExecutionNotRedrivable", reason)
