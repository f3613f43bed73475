"""What Lambda's invoke gives a function and gives back, wherever the function runs.

The legacy form (`arn:aws:lambda:...:function:NAME`) passes the task's input as the event
and returns the function's result as is. `arn:aws:states:::lambda:invoke` passes the
`Payload` parameter as the event and wraps the result the way the Lambda API answers.
"""

from __future__ import annotations

from typing import Any

from stepstream.asl.resources import ResourceRef


def function_event(resource: ResourceRef, parameters: Any) -> Any:
    if not resource.legacy_lambda and isinstance(parameters, dict):
        return parameters.get("Payload", {})
    return parameters


def task_output(resource: ResourceRef, result: Any, request_id: str) -> Any:
    if resource.legacy_lambda:
        return result
    return {
        "ExecutedVersion": "$LATEST",
        "Payload": result,
        "SdkHttpMetadata": {"HttpStatusCode": 200},
        "SdkResponseMetadata": {"RequestId": request_id},
        "StatusCode": 200,
    }
