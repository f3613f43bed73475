"""Resource bindings: where each Task resource of a definition runs here.

A definition written for AWS runs unchanged; its bindings file says what its resources
mean on this system:

    {
      "functions": {"book-shipment": "book-shipment"},
      "resources": {
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken": {"topic": "human-review"}
      }
    }

`functions` maps a Lambda function name (from a `...:function:NAME` ARN, or the
FunctionName of `lambda:invoke`) to the service that serves it: the task becomes a
command on that service's command topic, and the service's reply finishes it.
`resources` maps any other resource ARN to a topic the task's message is published on:
with `.waitForTaskToken` the task then waits for a callback with its token; without, it
succeeds once published, as SQS and SNS answer with a message id.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stepstream.asl.definition import Scope, StateMachineDef
from stepstream.asl.resources import ResourceRef, function_name
from stepstream.asl.states.map_ import MapState
from stepstream.asl.states.parallel import ParallelState
from stepstream.asl.states.task import TaskState
from stepstream.messaging.topics import Topics


class PublishBinding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str = Field(min_length=1, description="topic name without the deployment prefix")


class Bindings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    functions: dict[str, str] = Field(default_factory=dict)
    resources: dict[str, PublishBinding] = Field(default_factory=dict)


class InvalidBindings(ValueError):
    """Bindings that cannot be read, or that leave a Task resource of the definition unbound."""


def load_bindings(text: str) -> Bindings:
    try:
        return Bindings.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'bindings'}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidBindings(f"invalid bindings: {problems}") from None


def read_stored(text: str) -> tuple[Bindings, str | None]:
    """Stored bindings and what is wrong with them, never raising.

    The store may hold bindings written before they were checked, or by hand; a process
    reading them must go on, so the problem is returned for it to report instead.
    """
    try:
        bindings = load_bindings(text)
    except InvalidBindings as exc:
        return Bindings(), str(exc)
    problems = name_problems(bindings)
    return bindings, "; ".join(problems) if problems else None


@dataclass(frozen=True, slots=True)
class Command:
    """Send `function` to the service that serves it; its reply finishes the task."""

    service: str
    function: str


@dataclass(frozen=True, slots=True)
class Publish:
    """Publish the task's message; finished by a callback (waitForTaskToken) or at once."""

    topic: str
    waits_for_token: bool


Target = Command | Publish


def resolve(bindings: Bindings, resource: ResourceRef, parameters: Any) -> Target | None:
    """Where a scheduled task goes, or None when nothing here serves it."""
    name = function_name(resource, parameters)
    if name is not None:
        service = bindings.functions.get(name)
        return Command(service, name) if service is not None else None
    published = bindings.resources.get(resource.arn)
    if published is None:
        return None
    return Publish(published.topic, resource.waits_for_token)


def _task_states(scope: Scope) -> list[TaskState]:
    found: list[TaskState] = []
    for state in scope.states.values():
        if isinstance(state, TaskState):
            found.append(state)
        elif isinstance(state, ParallelState):
            for branch in state.branches:
                found.extend(_task_states(branch))
        elif isinstance(state, MapState):
            found.extend(_task_states(state.processor))
    return found


def unbound(bindings: Bindings, machine: StateMachineDef) -> list[str]:
    """Every Task state whose resource nothing here serves, as a readable line each."""
    problems = []
    for state in _task_states(machine.scope):
        ref = state.resource
        parameters = state.parameters if isinstance(state.parameters, dict) else {}
        if ref.integration == "lambda:invoke" and "FunctionName.$" in parameters:
            continue  # chosen at run time; checked when the task is scheduled
        if resolve(bindings, ref, parameters) is None:
            name = function_name(ref, parameters)
            what = f"function '{name}'" if name else f"resource '{ref.arn}'"
            problems.append(f"state '{state.name}': no binding for {what}")
    return problems


def name_problems(bindings: Bindings) -> list[str]:
    """Every service or topic the bindings name that cannot be a topic here."""
    # The default prefix stands in for the deployment's: the check is of the names' own
    # characters, and of a length that leaves room for a prefix of ordinary size.
    topics = Topics()
    problems = []
    for function, service in sorted(bindings.functions.items()):
        try:
            topics.commands(service)
        except ValueError as exc:
            problems.append(f"function '{function}': {exc}")
    for arn, published in sorted(bindings.resources.items()):
        try:
            topics.named(published.topic)
        except ValueError as exc:
            problems.append(f"resource '{arn}': {exc}")
            continue
        if published.topic in _RESERVED_TOPICS:
            problems.append(
                f"resource '{arn}': topic '{published.topic}' is the orchestrator's own"
            )
    return problems


# Publishing a task's message on these would feed it to the orchestrator as a request.
_RESERVED_TOPICS = frozenset({"requests", "replies"})


@dataclass(frozen=True, slots=True)
class Uses:
    """What a definition's Task states call: function names, other resource ARNs."""

    functions: frozenset[str]
    resources: frozenset[str]
    # A lambda:invoke with FunctionName.$ may call any function: none is unused then.
    chosen_at_run_time: bool


def uses(machine: StateMachineDef) -> Uses:
    functions: set[str] = set()
    resources: set[str] = set()
    chosen_at_run_time = False
    for state in _task_states(machine.scope):
        ref = state.resource
        parameters = state.parameters if isinstance(state.parameters, dict) else {}
        if ref.integration == "lambda:invoke" and "FunctionName.$" in parameters:
            chosen_at_run_time = True
        name = function_name(ref, parameters)
        if name is not None:
            functions.add(name)
        else:
            resources.add(ref.arn)
    return Uses(frozenset(functions), frozenset(resources), chosen_at_run_time)


def trimmed(bindings: Bindings, machine: StateMachineDef) -> Bindings:
    """``bindings`` without what no Task state of ``machine`` uses."""
    used = uses(machine)
    return Bindings(
        functions={
            name: service
            for name, service in bindings.functions.items()
            if used.chosen_at_run_time or name in used.functions
        },
        resources={
            arn: published for arn, published in bindings.resources.items() if arn in used.resources
        },
    )


def unused(bindings: Bindings, machine: StateMachineDef) -> list[str]:
    """Bindings for functions or resources no Task state of the definition uses."""
    used = uses(machine)
    problems = []
    if not used.chosen_at_run_time:
        extra = sorted(set(bindings.functions) - used.functions)
        problems += [f"function '{name}' is bound but no Task state calls it" for name in extra]
    extra = sorted(set(bindings.resources) - used.resources)
    problems += [f"resource '{arn}' is bound but no Task state uses it" for arn in extra]
    return problems


def problems(bindings: Bindings, machine: StateMachineDef) -> list[str]:
    """Everything that keeps `bindings` from serving `machine`, checked before storing."""
    return name_problems(bindings) + unbound(bindings, machine) + unused(bindings, machine)


def published_message(payload: Any, task_token: str | None, state_name: str) -> dict[str, Any]:
    """What a publish task puts on its topic: the SQS or SNS body of its parameters."""
    body = (
        payload.get("MessageBody", payload.get("Message", payload))
        if isinstance(payload, dict)
        else payload
    )
    return {"message": body, "task_token": task_token, "state": state_name}


def publish_result(target: Publish) -> dict[str, Any]:
    """What a publish task without a token returns: a message id, as SQS and SNS do."""
    return {"MessageId": str(uuid.uuid4()), "Topic": target.topic}


def dumps(bindings: Bindings) -> str:
    return json.dumps(bindings.model_dump(), sort_keys=True)


def binding_topics(bindings: Bindings, topics: Topics) -> set[str]:
    """The topics a machine's bindings send to: command topics and publish topics."""
    names = {topics.commands(service) for service in bindings.functions.values()}
    names.update(f"{topics.prefix}.{binding.topic}" for binding in bindings.resources.values())
    return names
