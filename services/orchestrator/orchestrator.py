"""The orchestrator: moves executions on, one inbound message at a time.

For each message it loads the execution (cache, else replay), lets the engine decide,
and appends the new events together with the messages to send and the timer changes in
one transaction. A relay publishes the outbox afterwards. If another orchestrator
advanced the same execution first, the version check refuses the append; the execution
is replayed and the message handled again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from services.orchestrator import dispatch
from services.orchestrator.executions import ExecutionRepository, Loaded, UnknownStateMachine
from services.orchestrator.locks import KeyedLocks
from stepstream import arns
from stepstream.asl import errors
from stepstream.asl.history import HistoryEvent, TaskScheduledDetails
from stepstream.asl.lambda_invoke import task_output
from stepstream.asl.limits import execution_input_problem, nesting_problem
from stepstream.asl.messages import (
    Decision,
    Message,
    ScheduleTask,
    StopRequested,
    TaskError,
    TaskHeartbeat,
    TaskResult,
    TimerFired,
)
from stepstream.asl.ports import Clock, SystemClock, SystemEntropy
from stepstream.asl.redrive import NotRedrivable
from stepstream.asl.tokens import InvalidToken, decode_token
from stepstream.asl.validation import InvalidDefinition
from stepstream.bindings import Bindings, InvalidBindings, dumps
from stepstream.messaging.contracts import (
    REPLY_KINDS,
    TaskFailedReply,
    TaskHeartbeatReply,
    TaskSucceededReply,
    parse_reply,
)
from stepstream.messaging.dead_letter import PoisonMessage
from stepstream.messaging.envelope import Envelope
from stepstream.messaging.requests import (
    REQUESTS,
    CreateStateMachine,
    DeleteStateMachine,
    RedriveExecution,
    SendTaskFailure,
    SendTaskHeartbeat,
    SendTaskSuccess,
    StartExecution,
    StopExecution,
    TimerDue,
)
from stepstream.messaging.topics import Topics
from stepstream.observability import metrics, tracing
from stepstream.observability.logs import log_context, tag_log
from stepstream.registration import check_state_machine
from stepstream.store.base import ExecutionStore
from stepstream.store.errors import ConcurrencyError, DuplicateExecutionName
from stepstream.store.records import (
    Appended,
    ExecutionRecord,
    ExecutionStatus,
    ListPosition,
    PendingMessage,
)

log = logging.getLogger(__name__)

MAX_CONFLICTS = 5
# Step Functions refuses an execution input above 256 KiB.


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _state_of(loaded: Loaded, message: Message) -> str | None:
    """The name of the state a task reply is for, to tag the log lines about it."""
    state = loaded.execution.state
    task = state.tasks.get(getattr(message, "task_id", ""))
    frame = None if task is None else state.frames.get(task.frame_id)
    return None if frame is None or frame.state is None else frame.state.name


def _task_result(task_id: str, output: Any) -> Message:
    """A task's output, or its failure when the output nests too deeply to be carried on."""
    if (too_deep := nesting_problem("the task's output", output)) is not None:
        return TaskError(task_id, errors.DATA_LIMIT_EXCEEDED, too_deep)
    return TaskResult(task_id, output)


def _check_start(request: StartExecution) -> None:
    """Refuse what the API would have refused, for a request put straight on the bus."""
    try:
        arns.check_name("execution", request.name)
    except arns.InvalidName as exc:
        raise PoisonMessage(str(exc)) from None
    # The envelope was JSON already; only its size is left to check.
    if (too_large := execution_input_problem(request.input)) is not None:
        raise PoisonMessage(f"InvalidExecutionInput: {too_large}")


class Orchestrator:
    def __init__(
        self,
        *,
        store: ExecutionStore,
        topics: Topics,
        clock: Clock | None = None,
        relay: Callable[[Sequence[PendingMessage]], None] | None = None,
        on_registered: Callable[[Bindings], Awaitable[None]] | None = None,
    ) -> None:
        """`relay` receives the outbox rows of every committed append, to publish them.

        Without one, the rows wait in the store for whoever reads ``pending_outbox``.
        `on_registered` is awaited with the bindings of every state machine registered
        (to make the topics they name).
        """
        self.store = store
        self.topics = topics
        self.clock: Clock = clock or SystemClock()
        self.entropy = SystemEntropy()
        self.repository = ExecutionRepository(store)
        self._relay = relay
        self._on_registered = on_registered
        self._locks = KeyedLocks()

    # -- inbound -------------------------------------------------------------------------

    async def handle_envelope(self, envelope: Envelope, _record: object = None) -> None:
        """Handle one request or task reply; a message that makes no sense is dead-lettered."""
        try:
            with (
                log_context(execution_arn=envelope.execution_id, command_id=envelope.command_id),
                tracing.span(f"orchestrator {envelope.kind}", parent=envelope.trace),
            ):
                await self._dispatch(envelope)
        except ValidationError as exc:
            raise PoisonMessage(
                f"invalid {envelope.kind} payload: {exc.errors()[0]['msg']}"
            ) from None

    async def _dispatch(self, envelope: Envelope) -> None:
        kind, payload = envelope.kind, envelope.payload
        if kind == StartExecution.KIND:
            await self.start(StartExecution.model_validate(payload))
        elif kind == CreateStateMachine.KIND:
            await self.create_state_machine(CreateStateMachine.model_validate(payload))
        elif kind == DeleteStateMachine.KIND:
            await self.delete_state_machine(DeleteStateMachine.model_validate(payload))
        elif kind in REPLY_KINDS:
            await self._reply(envelope)
        elif kind in REQUESTS:
            await self._request(envelope.execution_id, REQUESTS[kind].model_validate(payload))
        else:
            raise PoisonMessage(f"the orchestrator does not handle messages of kind {kind!r}")

    async def _reply(self, envelope: Envelope) -> None:
        if envelope.command_id is None:
            raise PoisonMessage("a task reply without command_id cannot be matched to its task")
        try:
            arn, task_id = dispatch.parse_command_id(envelope.command_id)
        except ValueError as exc:
            raise PoisonMessage(str(exc)) from None
        message: Message
        match parse_reply(envelope):
            case TaskSucceededReply(output=output):
                loaded = await self.repository.load(arn)
                task = loaded.execution.state.tasks.get(task_id) if loaded else None
                if task is not None:
                    output = task_output(task.resource, output, envelope.message_id)
                message = _task_result(task_id, output)
            case TaskFailedReply(error=error, cause=cause, retry_after_seconds=hint):
                message = TaskError(task_id, error, cause, hint)
            case TaskHeartbeatReply():
                message = TaskHeartbeat(task_id)
        await self.deliver(arn, message)

    async def _request(self, arn: str, request: Any) -> None:
        match request:
            case StopExecution(error=error, cause=cause):
                await self.deliver(arn, StopRequested(error, cause))
            case TimerDue(timer_id=timer_id):
                await self.deliver(arn, TimerFired(timer_id), fired_timer=timer_id)
            case RedriveExecution(client_token=token):
                await self.redrive(arn, token)
            case SendTaskSuccess() | SendTaskFailure() | SendTaskHeartbeat():
                await self._callback(arn, request)

    async def _callback(
        self, arn: str, request: SendTaskSuccess | SendTaskFailure | SendTaskHeartbeat
    ) -> None:
        try:
            ref = decode_token(request.task_token)
        except InvalidToken as exc:
            raise PoisonMessage(str(exc)) from None
        if ref.execution_arn != arn:
            raise PoisonMessage(
                "the task token belongs to another execution than the message's key"
            )
        message: Message
        match request:
            case SendTaskSuccess(output=output):
                message = _task_result(ref.task_id, output)
            case SendTaskFailure(error=error, cause=cause):
                message = TaskError(ref.task_id, error, cause)
            case _:
                message = TaskHeartbeat(ref.task_id)
        await self.deliver(arn, message)

    # -- registering ---------------------------------------------------------------------

    async def create_state_machine(self, request: CreateStateMachine) -> int:
        """Register a definition with its bindings; the same again gives the same version.

        A request that the API would have refused is dead-lettered with the reason.
        """
        try:
            bound = check_state_machine(request.name, request.definition, request.bindings)
        except (arns.InvalidName, InvalidDefinition, InvalidBindings) as exc:
            raise PoisonMessage(f"{type(exc).__name__}: {exc}") from None
        version = await self.store.put_state_machine(request.name, request.definition, dumps(bound))
        if self._on_registered is not None:
            await self._on_registered(bound)
        return version

    async def delete_state_machine(self, request: DeleteStateMachine) -> None:
        """Delete a state machine's name; a repeated request changes nothing."""
        if await self.store.delete_state_machine(request.name):
            log.info("state machine %s deleted", request.name)

    # -- starting ------------------------------------------------------------------------

    async def start(self, request: StartExecution) -> str:
        """Start an execution; starting one that exists already changes nothing."""
        _check_start(request)
        name = arns.state_machine_name(request.state_machine)
        arn = arns.execution_arn(name, request.name)
        async with self._locks.hold(arn):
            if await self.store.get_execution(arn) is not None:
                return arn  # a redelivered start, or a name reused (the client refuses that)
            try:
                machine = await self.repository.machine(name, request.version)
            except UnknownStateMachine as exc:
                raise PoisonMessage(str(exc)) from None
            loaded = self.repository.new(machine, request.name)
            decision = loaded.execution.start(request.input, clock=self.clock, entropy=self.entropy)
            try:
                await self._commit(loaded, decision, expected_version=0)
            except (ConcurrencyError, DuplicateExecutionName):
                return arn
            except dispatch.UnencodableDecision as exc:
                # Nothing is stored yet: the request is set aside with the reason.
                raise PoisonMessage(f"the execution cannot start: {exc}") from None
        return arn

    # -- redriving ------------------------------------------------------------------------

    async def redrive(self, arn: str, client_token: str) -> bool:
        """Redrive an execution; the same client token again changes nothing.

        Returns whether this call redrove it. One that cannot be redriven (it is running
        again, say, after a redrive with another token) is left alone: the caller, who
        checked before asking, sees from the store that its redrive did not happen.
        """
        async with self._locks.hold(arn):
            for _ in range(MAX_CONFLICTS):
                loaded = await self.repository.load(arn)
                if loaded is None:
                    log.warning("redrive of unknown execution %s dropped", arn)
                    return False
                execution = loaded.execution
                if client_token in execution.state.redrive_tokens:
                    return False  # a redelivered request
                if loaded.unreadable is not None:
                    log.warning("redrive of %s refused: its history does not replay", arn)
                    return False
                before = execution.version
                try:
                    decision = execution.redrive(
                        clock=self.clock, entropy=self.entropy, client_token=client_token
                    )
                except NotRedrivable as exc:
                    log.info("redrive of %s refused: %s", arn, exc.reason)
                    return False
                try:
                    await self._commit(loaded, decision, expected_version=before)
                    return True
                except ConcurrencyError:
                    self.repository.forget(arn)
            raise RuntimeError(f"execution {arn} kept changing under this orchestrator")

    # -- moving on -----------------------------------------------------------------------

    async def deliver(self, arn: str, message: Message, *, fired_timer: str | None = None) -> None:
        """Hand `message` to its execution and record the outcome."""
        async with self._locks.hold(arn):
            # Why the execution must fail instead, once its decision proved unwritable.
            failure: str | None = None
            for _ in range(MAX_CONFLICTS):
                loaded = await self.repository.load(arn)
                if loaded is None:
                    if fired_timer is not None:
                        await self.store.append(
                            arn, 0, [], timers_cleared=[dispatch.store_timer_id(arn, fired_timer)]
                        )
                    log.warning("message for unknown execution %s dropped", arn)
                    return
                tag_log(state=_state_of(loaded, message))
                before = loaded.execution.version
                failure = failure or loaded.unreadable
                if failure is not None:
                    decision = loaded.execution.fail(errors.RUNTIME, failure, clock=self.clock)
                else:
                    decision = loaded.execution.handle(
                        message, clock=self.clock, entropy=self.entropy
                    )
                if not decision.events and not decision.effects and fired_timer is None:
                    return  # nothing changed (a late answer, a stale timer)
                try:
                    await self._commit(
                        loaded, decision, expected_version=before, fired_timer=fired_timer
                    )
                    return
                except ConcurrencyError:
                    self.repository.forget(arn)
                except dispatch.UnencodableDecision as exc:
                    # The cache dropped the decision; the stored history is loaded again.
                    log.warning("execution %s fails: %s", arn, exc)
                    failure = str(exc)
            raise RuntimeError(f"execution {arn} kept changing under this orchestrator")

    async def _commit(
        self,
        loaded: Loaded,
        decision: Decision,
        *,
        expected_version: int,
        fired_timer: str | None = None,
    ) -> None:
        execution = loaded.execution
        arn = execution.state.execution_arn
        # The decision has already moved the execution in memory: whatever fails before
        # it is stored (planning the writes included) must drop it from the cache, or a
        # redelivered message would meet a state the store never saw.
        try:
            writes = dispatch.plan(loaded, decision, self.topics, fired_timer)
            appended = await self.store.append_for_relay(
                arn,
                expected_version,
                writes.events,
                outbox=writes.outbox,
                timers_set=writes.timers_set,
                timers_cleared=writes.timers_cleared,
                execution=self._index_record(loaded, decision),
            )
        except BaseException:
            self.repository.forget(arn)
            raise
        self.repository.remember(loaded)
        metrics.record_history(loaded.machine.name, decision.events)
        self._hand_to_relay(appended)
        for answer in writes.immediate:
            version = execution.version
            follow = execution.handle(answer, clock=self.clock, entropy=self.entropy)
            await self._commit(loaded, follow, expected_version=version)

    def _index_record(self, loaded: Loaded, decision: Decision) -> ExecutionRecord | None:
        changes_status = any(e.type.startswith("Execution") for e in decision.events)
        if not changes_status:
            return None
        state = loaded.execution.state
        assert state.start_date is not None
        ended = state.status != "RUNNING"
        return ExecutionRecord(
            execution_arn=state.execution_arn,
            state_machine_name=loaded.machine.name,
            state_machine_version=loaded.machine.version,
            name=state.name,
            status=ExecutionStatus(state.status),
            input=_json(state.input),
            start_date=state.start_date,
            output=_json(state.output) if state.status == "SUCCEEDED" else None,
            error=state.error,
            cause=state.cause,
            stop_date=state.stop_date if ended else None,
            redrive_count=state.redrive_count,
            redrive_date=state.redrive_date,
        )

    # -- after the broker lost everything ------------------------------------------------

    async def republish_pending(self) -> int:
        """Put the commands of every pending task in the outbox again; returns how many.

        Workers are idempotent on the idempotency key, so a command they already handled
        is answered again without doing the work twice.
        """
        count = 0
        after: ListPosition | None = None
        while page := await self.store.list_executions(
            status=ExecutionStatus.RUNNING, limit=500, after=after
        ):
            for record in page:
                async with self._locks.hold(record.execution_arn):
                    count += await self._republish(record.execution_arn)
            after = ListPosition.after(page[-1])
        return count

    async def _republish(self, arn: str) -> int:
        loaded = await self.repository.load(arn)
        if loaded is None or not loaded.execution.pending_tasks():
            return 0
        effects: list[Any] = []
        for task in loaded.execution.pending_tasks():
            stored = await self.store.read(arn, after_version=int(task.task_id) - 1)
            scheduled = HistoryEvent.from_record(stored[0].data)
            frame = loaded.execution.state.frames[task.frame_id]
            details = scheduled.details
            parameters = getattr(details, "parameters", None) or getattr(details, "input", None)
            effects.append(
                ScheduleTask(
                    task_id=task.task_id,
                    resource=task.resource,
                    payload=parameters,
                    task_token=task.token,
                    timeout_seconds=getattr(details, "timeoutInSeconds", None),
                    heartbeat_seconds=details.heartbeatInSeconds
                    if isinstance(details, TaskScheduledDetails)
                    else None,
                    state_name=frame.state.name if frame.state else "",
                    scope=frame.id,
                )
            )
        writes = dispatch.plan(loaded, Decision([], effects), self.topics)
        appended = await self.store.append_for_relay(
            arn, loaded.execution.version, [], outbox=writes.outbox
        )
        self._hand_to_relay(appended)
        return len(effects)

    def _hand_to_relay(self, appended: Appended) -> None:
        if self._relay is not None:
            self._relay(appended.outbox)

    async def fire_due_timers(
        self, now: datetime, limit: int = 200, *, owns: Callable[[str], bool] | None = None
    ) -> int:
        """Deliver the timers due by `now`; returns how many fired.

        With `owns`, only those of executions it accepts (by ARN): each orchestrator
        replica fires the timers of the executions whose messages it receives.
        """
        fired = 0
        for timer in await self.store.due_timers(now, limit):
            if owns is not None and not owns(timer.stream_id):
                continue
            await self.deliver(
                timer.stream_id,
                TimerFired(timer.payload["timer_id"]),
                fired_timer=timer.payload["timer_id"],
            )
            fired += 1
        return fired
