"""What a Task's Resource ARN names, in the terms history events and bindings use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WAIT_FOR_TASK_TOKEN = ".waitForTaskToken"
SYNC = ".sync"


@dataclass(frozen=True, slots=True)
class ResourceRef:
    arn: str
    resource_type: str  # "lambda", "sqs", "activity", ...
    resource: str  # "invoke", "sendMessage.waitForTaskToken", a function name, ...
    legacy_lambda: bool  # arn:aws:lambda:...:function:NAME, recorded as LambdaFunction* events

    @property
    def waits_for_token(self) -> bool:
        return self.arn.endswith(WAIT_FOR_TASK_TOKEN)

    @property
    def integration(self) -> str:
        """The service action without its pattern suffix: "lambda:invoke", "sqs:sendMessage"."""
        action = self.resource.removesuffix(WAIT_FOR_TASK_TOKEN).removesuffix(SYNC)
        return f"{self.resource_type}:{action}"


def parse_resource(arn: str) -> ResourceRef:
    parts = arn.split(":", 6)
    service = parts[2] if len(parts) > 2 else ""
    if service == "lambda" and len(parts) >= 7 and parts[5] == "function":
        return ResourceRef(arn, "lambda", parts[6].split(":")[0], legacy_lambda=True)
    if service == "states" and len(parts) >= 6 and parts[5] == "activity":
        return ResourceRef(arn, "activity", parts[6] if len(parts) > 6 else "", legacy_lambda=False)
    if service == "states" and len(parts) >= 6:
        # arn:aws:states:::SERVICE:ACTION[.pattern]
        tail = arn.split(":::", 1)[-1]
        kind, _, action = tail.partition(":")
        return ResourceRef(arn, kind, action, legacy_lambda=False)
    return ResourceRef(arn, service or "unknown", arn, legacy_lambda=False)


def function_name(ref: ResourceRef, parameters: Any) -> str | None:
    """The Lambda function a task calls: from the ARN, or from FunctionName for lambda:invoke."""
    if ref.legacy_lambda:
        return ref.resource
    if ref.integration == "lambda:invoke" and isinstance(parameters, dict):
        name = parameters.get("FunctionName")
        if isinstance(name, str):
            # FunctionName may be a name, a partial ARN or a full ARN (with a version).
            if ":function:" in name:
                name = name.split(":function:", 1)[1]
            return name.split(":")[0]
    return None
