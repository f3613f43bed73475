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
