"""StepStreamClient: the Step Functions API against a running stack.

Reads come straight from the store (the history is the truth), through the read-only
``ExecutionReader``: the orchestrator is the only writer. Changes go to the orchestrator
as requests on its topic, keyed by the ARN of what they change, and the calls that AWS
answers after the change (create-state-machine, start, stop, redrive) wait until the store
shows it.

A broker's acknowledgement is not durability (the embedded one keeps messages in memory
only, and may die and come back empty), so a registration, start or stop is answered only once the
orchestrator has recorded it; until then the request is sent again now and then, which
is harmless as the orchestrator handles a repeated registration, start or stop as the
first, and a redrive carries a client token that makes a repeat the same redrive.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from stepstream import arns
from stepstream.api import shapes
from stepstream.api.errors import ApiError, ExecutionDoesNotExist, ExecutionNotRedrivable
from stepstream.api.paging import decode_next_token, encode_next_token
from stepstream.asl import redrive
from stepstream.asl.execution import Execution, TaskNotPending
from stepstream.asl.history import ExecutionRedrivenDetails, HistoryEvent
from stepstream.asl.json_values import NotPlainJson, finite_float, refuse_constant
from stepstream.asl.limits import execution_input_problem
from stepstream.asl.machine import load_machine
from stepstream.asl.tokens import InvalidToken, decode_token
from stepstream.asl.validation import InvalidDefinition
from stepstream.bindings import Bindings, InvalidBindings, binding_topics, dumps
from stepstream.broker.admin import TopicSpec, ensure_topics
from stepstream.messaging.bus import Publisher
from stepstream.messaging.envelope import Envelope, MessageTooLarge, encode
from stepstream.messaging.requests import (
    CreateStateMachine,
    DeleteStateMachine,
    RedriveExecution,
    SendTaskFailure,
    SendTaskHeartbeat,
    SendTaskSuccess,
    StartExecution,
    StopExecution,
)
from stepstream.messaging.topics import Topics
from stepstream.registration import check_state_machine
from stepstream.store.base import ExecutionReader
from stepstream.store.records import (
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    StateMachineRecord,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

# AWS answers a repeated RedriveExecution with the first one's answer for this long.
REDRIVE_TOKEN_LIFETIME = timedelta(minutes=15)
REDRIVE_FILTERS = {"REDRIVEN": True, "NOT_REDRIVEN": False}


def _parse_json(text: str, code: str, what: str) -> Any:
    try:
        return json.loads(text, parse_float=finite_float, parse_constant=refuse_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(code, f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(code, f"{what} nests too deeply to be read") from None
    except NotPlainJson as exc:
        raise ApiError(code, f"{what} is not valid JSON: {exc}") from None
    except ValueError:
        # Python reads integers of up to 4,300 digits and refuses longer ones.
        raise ApiError(code, f"{what} has a number with more digits than can be read") from None


class StepStreamClient:
    def __init__(
        self,
        *,
        store: ExecutionReader,
        publisher: Publisher,
        topics: Topics,
        bootstrap: str | None = None,
        # How long a start or stop may take to be recorded before the caller is told to
        # try again: room for a stack whose processes are still joining the broker.
        wait_seconds: float = 30.0,
        poll_seconds: float = 0.02,
        resend_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.topics = topics
        self.bootstrap = bootstrap
        self.wait_seconds = wait_seconds
        self.poll_seconds = poll_seconds
        self.resend_seconds = resend_seconds

    # -- state machines ------------------------------------------------------------------

    async def create_state_machine(
        self, name: str, definition: str, bindings: str
    ) -> dict[str, Any]:
        """Register a definition with its bindings; the same again returns the same version.

        The orchestrator registers it; this asks, and answers once the store shows it.
        """
        try:
            bound = check_state_machine(name, definition, bindings)
        except (arns.InvalidName, InvalidDefinition, InvalidBindings) as exc:
            code = {arns.InvalidName: "InvalidName", InvalidDefinition: "InvalidDefinition"}.get(
                type(exc), "InvalidBindings"
            )
            raise ApiError(code, str(exc)) from None
        await self._ensure_topics(bound)
        arn = arns.state_machine_arn(name)
        request = CreateStateMachine(name=name, definition=definition, bindings=dumps(bound))
        wanted = (json.loads(definition), json.loads(request.bindings))

        async def registered() -> StateMachineRecord | None:
            record = await self.store.get_state_machine(name)
            if record is None:
                return None
            stored = (json.loads(record.definition), json.loads(record.bindings))
            return record if stored == wanted else None

        record = await self._send_until_shown(
            arn, request.KIND, request.model_dump(), registered, "registration"
        )
        return {
            "stateMachineArn": arn,
            "stateMachineVersionArn": f"{arn}:{record.version}",
            "creationDate": record.created_at.isoformat(),
        }

    async def _ensure_topics(self, bindings: Bindings) -> None:
        if self.bootstrap is None:
            return
        names = binding_topics(bindings, self.topics)
        await ensure_topics(self.bootstrap, [TopicSpec(n) for n in sorted(names)])

    async def describe_state_machine(self, name: str) -> dict[str, Any]:
        record = await self.store.get_state_machine(arns.state_machine_name(name))
        if record is None:
            raise ApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{name}'")
        return shapes.state_machine_description(record)

    async def delete_state_machine(self, name: str) -> dict[str, Any]:
        """Delete a state machine, answering once it is gone; its executions go on.

        Deleting one that does not exist succeeds, as in Step Functions.
        """
        machine_name = arns.state_machine_name(name)
        if await self.store.get_state_machine(machine_name) is None:
            return {}
        arn = arns.state_machine_arn(machine_name)
        request = DeleteStateMachine(name=machine_name)

        async def deleted() -> bool | None:
            return True if await self.store.get_state_machine(machine_name) is None else None

        await self._send_until_shown(arn, request.KIND, request.model_dump(), deleted, "deletion")
        return {}

    # -- executions ----------------------------------------------------------------------

    async def start_execution(
        self,
        state_machine: str,
        input_text: str = "{}",
        name: str | None = None,
        *,
        version: int | None = None,
    ) -> dict[str, Any]:
        """Start an execution of the latest version, or of ``version`` when given."""
        machine_name = arns.state_machine_name(state_machine)
        name = name or str(uuid.uuid4())
        try:
            arns.check_name("execution", name)
        except arns.InvalidName as exc:
            raise ApiError("InvalidName", str(exc)) from None
        execution_input = _parse_json(input_text, "InvalidExecutionInput", "the execution input")
        if (too_large := execution_input_problem(execution_input)) is not None:
            raise ApiError("InvalidExecutionInput", too_large)
        # A deleted machine's versions are kept for its executions, not for new ones.
        if await self.store.get_state_machine(machine_name) is None or (
            version is not None
            and await self.store.get_state_machine(machine_name, version) is None
        ):
            raise ApiError(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{state_machine}'"
            )
        arn = arns.execution_arn(machine_name, name)
        existing = await self.store.get_execution(arn)
        if existing is None:
            request = StartExecution(
                state_machine=machine_name, name=name, input=execution_input, version=version
            )
            existing = await self._send_until(
                arn, request.KIND, request.model_dump(), lambda r: r is not None, "start"
            )
        elif json.loads(existing.input) != execution_input:
            raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        return {"executionArn": arn, "startDate": existing.start_date.isoformat()}

    async def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        record = await self._record(execution_arn)
        described = shapes.execution_description(record)
        described.update(redrive.redrive_status(await self._redrive_refusal(record)))
        return described

    async def _redrive_refusal(self, record: ExecutionRecord) -> str | None:
        """Why the execution cannot be redriven now, from its index row and history length."""
        status = str(record.status)
        length = 0
        if status in redrive.REDRIVABLE_STATUSES:
            # Only the events past the limit are read: none, for all but huge histories.
            beyond = await self.store.read(
                record.execution_arn, after_version=redrive.MAX_REDRIVABLE_EVENTS
            )
            length = redrive.MAX_REDRIVABLE_EVENTS + len(beyond) if beyond else 0
        return redrive.refusal(
            status,
            start_date=record.start_date,
            stop_date=record.stop_date,
            history_length=length,
            now=datetime.now(UTC),
        )

    async def get_execution_history(
        self, execution_arn: str, *, reverse: bool = False
    ) -> dict[str, Any]:
        await self._record(execution_arn)
        stored = await self.store.read(execution_arn)
        events = [HistoryEvent.from_record(event.data).to_aws() for event in stored]
        return {"events": events[::-1] if reverse else events}

    async def list_executions(
        self,
        state_machine: str | None = None,
        status: str | None = None,
        limit: int = 100,
        next_token: str | None = None,
        redrive_filter: str | None = None,
    ) -> dict[str, Any]:
        """One page of executions, newest first; ``nextToken`` is there when more follow.

        ``redrive_filter`` is REDRIVEN (only executions redriven at least once) or
        NOT_REDRIVEN.
        """
        try:
            wanted = ExecutionStatus(status) if status else None
        except ValueError:
            raise ApiError("InvalidArguments", f"unknown status {status!r}") from None
        if redrive_filter is not None and redrive_filter not in REDRIVE_FILTERS:
            raise ApiError(
                "InvalidArguments",
                f"redriveFilter must be REDRIVEN or NOT_REDRIVEN, not {redrive_filter!r}",
            )
        redriven = None if redrive_filter is None else REDRIVE_FILTERS[redrive_filter]
        if not 1 <= limit <= 1000:
            raise ApiError("InvalidArguments", f"maxResults must be 1 to 1000, not {limit}")
        machine = arns.state_machine_name(state_machine) if state_machine else None
        after = decode_next_token(next_token) if next_token else None
        records = await self.store.list_executions(
            machine, wanted, limit + 1, after=after, redriven=redriven
        )
        page = records[:limit]
        listing: dict[str, Any] = {"executions": [shapes.execution_summary(r) for r in page]}
        if len(records) > limit:
            listing["nextToken"] = encode_next_token(ListPosition.after(page[-1]))
        return listing

    async def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        record = await self._record(execution_arn)
        if record.status == ExecutionStatus.RUNNING:
            request = StopExecution(error=error, cause=cause)
            record = await self._send_until(
                execution_arn,
                request.KIND,
                request.model_dump(),
                lambda r: r is not None and r.status != ExecutionStatus.RUNNING,
                "stop",
            )
        stop_date = record.stop_date.isoformat() if record.stop_date else None
        return {"stopDate": stop_date}

    async def redrive_execution(
        self, execution_arn: str, client_token: str | None = None
    ) -> dict[str, Any]:
        """Resume a failed, timed-out or aborted execution from where it stopped.

        Answers once the orchestrator has recorded the redrive. Calling again with the same
        ``client_token`` within 15 minutes answers the same and redrives nothing more.
        Raises ExecutionNotRedrivable, with AWS's reason, for an execution that cannot be
        redriven (running, succeeded, stopped more than 14 days ago, ...).
        """
        if client_token is not None and not 1 <= len(client_token) <= 64:
            raise ApiError("ValidationException", "clientToken must be 1 to 64 characters long")
        record = await self._record(execution_arn)
        token = client_token or str(uuid.uuid4())
        events = await self._history(execution_arn)
        earlier = _redriven_with(events, token)
        if earlier is not None and datetime.now(UTC) - earlier <= REDRIVE_TOKEN_LIFETIME:
            return {"redriveDate": earlier}
        execution = await self._replay(record, events)
        reason = redrive.state_refusal(execution.state, datetime.now(UTC))
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        request = RedriveExecution(client_token=token)
        seen = len(events)

        # None while the redrive is not recorded; then when it happened, or (None,) when
        # another redrive got there first.
        async def shown() -> tuple[datetime | None] | None:
            now = await self.store.get_execution(execution_arn)
            if now is None or now.redrive_count <= record.redrive_count:
                return None
            # Redriven: by this request, or meanwhile by another one.
            stored = await self.store.read(execution_arn, after_version=seen)
            later = [HistoryEvent.from_record(e.data) for e in stored]
            return (_redriven_with(later, token),)

        (date,) = await self._send_until_shown(
            execution_arn, request.KIND, request.model_dump(), shown, "redrive"
        )
        if date is None:
            raise ExecutionNotRedrivable("Execution is RUNNING and cannot be redriven")
        return {"redriveDate": date}

    # -- callbacks -----------------------------------------------------------------------

    async def send_task_success(self, task_token: str, output_text: str) -> dict[str, Any]:
        output = _parse_json(output_text, "InvalidOutput", "the task output")
        arn = await self._pending_task(task_token)
        request = SendTaskSuccess(task_token=task_token, output=output)
        await self._send_until_answered(arn, task_token, request.KIND, request.model_dump())
        return {}

    async def send_task_failure(
        self, task_token: str, error: str = "", cause: str = ""
    ) -> dict[str, Any]:
        arn = await self._pending_task(task_token)
        request = SendTaskFailure(task_token=task_token, error=error, cause=cause)
        await self._send_until_answered(arn, task_token, request.KIND, request.model_dump())
        return {}

    async def send_task_heartbeat(self, task_token: str) -> dict[str, Any]:
        arn = await self._pending_task(task_token)
        request = SendTaskHeartbeat(task_token=task_token)
        payload = request.model_dump()
        await self._send(arn, _request(arn, request.KIND, payload, request.KIND))
        return {}

    async def _send_until_answered(
        self, arn: str, task_token: str, kind: str, payload: dict[str, Any]
    ) -> None:
        """Send a task's answer until the store shows the task no longer waits.

        A broker's acknowledgement is not enough: the embedded broker keeps messages in
        memory only, and an answer it held when it died, before the orchestrator read
        it, would be lost while the caller (the review desk) believes it delivered.
        """

        async def answered() -> bool | None:
            record = await self.store.get_execution(arn)
            if record is None:
                return None
            execution = await self._replay(record, await self._history(arn))
            try:
                execution.task_for_token(task_token)
            except (TaskNotPending, InvalidToken):
                return True
            return None

        await self._send_until_shown(arn, kind, payload, answered, "answer to a task")

    async def _pending_task(self, task_token: str) -> str:
        """The execution a token answers, after checking its task still waits."""
        try:
            ref = decode_token(task_token)
        except InvalidToken as exc:
            raise ApiError("InvalidToken", str(exc)) from None
        record = await self.store.get_execution(ref.execution_arn)
        if record is None:
            raise ApiError("TaskDoesNotExist", "Task Does Not Exist: no execution for this token")
        execution = await self._replay(record, await self._history(ref.execution_arn))
        try:
            execution.task_for_token(task_token)
        except InvalidToken as exc:
            raise ApiError("InvalidToken", str(exc)) from None
        except TaskNotPending as exc:
            raise ApiError("TaskTimedOut", str(exc)) from None
        return ref.execution_arn

    # -- plumbing ------------------------------------------------------------------------

    async def _record(self, execution_arn: str) -> ExecutionRecord:
        record = await self.store.get_execution(execution_arn)
        if record is None:
            raise ExecutionDoesNotExist(execution_arn)
        return record

    async def _history(self, execution_arn: str) -> list[HistoryEvent]:
        return [HistoryEvent.from_record(e.data) for e in await self.store.read(execution_arn)]

    async def _replay(self, record: ExecutionRecord, events: Sequence[HistoryEvent]) -> Execution:
        """The execution as its history makes it, to ask the engine about it."""
        machine = await self.store.get_state_machine(
            record.state_machine_name, record.state_machine_version
        )
        assert machine is not None
        return Execution.from_history(
            load_machine(machine.definition),
            events,
            execution_arn=record.execution_arn,
            state_machine_arn=arns.state_machine_arn(record.state_machine_name),
            name=record.name,
        )

    async def _send(self, arn: str, envelope: Envelope) -> None:
        await self.publisher.publish(self.topics.requests(), arn, envelope)

    async def _send_until(
        self,
        arn: str,
        kind: str,
        payload: dict[str, Any],
        done: Callable[[ExecutionRecord | None], bool],
        what: str,
    ) -> ExecutionRecord:
        """Send a request, again now and then, until the store shows it took effect."""

        async def shown() -> ExecutionRecord | None:
            record = await self.store.get_execution(arn)
            return record if record is not None and done(record) else None

        return await self._send_until_shown(arn, kind, payload, shown, what)

    async def _send_until_shown(
        self,
        arn: str,
        kind: str,
        payload: dict[str, Any],
        shown: Callable[[], Awaitable[T | None]],
        what: str,
    ) -> T:
        """Send a request, again now and then, until ``shown`` finds its effect in the store."""
        _request(arn, kind, payload, what)  # one that cannot be sent is refused at once
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_seconds
        next_send = loop.time()
        problem = "the orchestrator did not record it"
        while True:
            found = await shown()
            if found is not None:
                return found
            now = loop.time()
            if now > deadline:
                raise ApiError(
                    "ServiceUnavailable",
                    f"the {what} of '{arn}' was not recorded within {self.wait_seconds:g} s"
                    f" ({problem}); it may still happen: calling again is safe",
                )
            if now >= next_send:
                # A send that hangs on an unreachable broker must not outlast the deadline.
                next_send = now + self.resend_seconds
                try:
                    # A fresh envelope each time, as every send is a message of its own.
                    envelope = Envelope(kind=kind, execution_id=arn, payload=payload)
                    await asyncio.wait_for(self._send(arn, envelope), max(0.0, deadline - now))
                except Exception as exc:  # the broker's errors, and a send that timed out
                    problem = f"sending the request failed: {type(exc).__name__}: {exc}"
                    log.info("%s of %s not sent (%s); sending it again", what, arn, problem)
            await asyncio.sleep(self.poll_seconds)


def _request(arn: str, kind: str, payload: dict[str, Any], what: str) -> Envelope:
    """The request's envelope; ValidationException if no message can carry it.

    Sending again cannot help such a request: it is refused here, not retried until the
    caller's time runs out.
    """
    try:
        envelope = Envelope(kind=kind, execution_id=arn, payload=payload)
        encode(envelope)
    except (ValidationError, PydanticSerializationError, MessageTooLarge) as exc:
        raise ApiError(
            "ValidationException", f"the {what} of '{arn}' cannot be sent: {exc}"
        ) from None
    return envelope


def _redriven_with(events: Sequence[HistoryEvent], client_token: str) -> datetime | None:
    """When the redrive with this client token happened, if one of `events` is it."""
    for event in reversed(events):
        details = event.details
        if isinstance(details, ExecutionRedrivenDetails) and details.clientToken == client_token:
            return event.timestamp
    return None
