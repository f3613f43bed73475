"""The decider: runs an execution forward from one message until it waits on the world.

Every change goes through an event applied by `evolve.apply`, so what the decider leaves
behind is exactly what replaying its events gives. Work is kept on a queue rather than
the call stack, so a Map of thousands of items or a long chain of states never recurses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from stepstream.asl import errors, evolve, states
from stepstream.asl.dataflow import Env, caught_output, passthrough_output, shape_output
from stepstream.asl.definition import Catcher, Retrier
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, Phase
from stepstream.asl.history import (
    Details,
    ExecutionFailedDetails,
    ExecutionStartedDetails,
    ExecutionSucceededDetails,
    FailureDetails,
    HistoryEvent,
    LambdaFunctionScheduledDetails,
    LambdaFunctionSucceededDetails,
    MapIterationDetails,
    MapStateStartedDetails,
    StateEnteredDetails,
    StateExitedDetails,
    TaskScheduledDetails,
    TaskStartedDetails,
    TaskSucceededDetails,
)
from stepstream.asl.limits import check_state_data
from stepstream.asl.messages import (
    CancelTimer,
    Decision,
    Effect,
    Message,
    ScheduleTask,
    StartTimer,
    StopRequested,
    TaskError,
    TaskHeartbeat,
    TaskPickedUp,
    TaskResult,
    TimerFired,
)
from stepstream.asl.ports import Clock, Entropy
from stepstream.asl.states import map_, wait
from stepstream.asl.states.outcomes import (
    Chose,
    Done,
    Outcome,
    Raised,
    RunBranches,
    RunItems,
    RunTask,
    Sleep,
    Succeeded,
)
from stepstream.asl.states.task import TaskState
from stepstream.asl.tokens import encode_token

Transition = tuple[str, Any] | None  # (next state, its input), or None when the frame stops here


def backoff_seconds(retrier: Retrier, attempt: int, entropy: Entropy) -> float:
    """The wait before retry number `attempt + 1`: capped exponential, optionally jittered."""
    delay = retrier.interval_seconds * retrier.backoff_rate**attempt
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_strategy == "FULL":
        delay = entropy.random() * delay
    return round(delay, 3)


def match_catcher(catchers: tuple[Catcher, ...], error: str) -> Catcher | None:
    for catcher in catchers:
        if errors.matches(catcher.error_equals, error):
            return catcher
    return None


class Decider:
    """One decision: built for one message, then dropped."""

    def __init__(self, state: ExecutionState, clock: Clock, entropy: Entropy) -> None:
        self.state = state
        self.clock = clock
        self.entropy = entropy
        self.events: list[HistoryEvent] = []
        self.effects: list[Effect] = []
        self._work: deque[Callable[[], None]] = deque()
        self._fired: str | None = None
        # Due times, not timer objects: a heartbeat moves its timer in place.
        self._timers_before = {tid: timer.due_at for tid, timer in state.timers.items()}

    # -- the outside ---------------------------------------------------------------------

    def start(self, execution_input: Any) -> Decision:
        self._emit(
            "ExecutionStarted",
            ExecutionStartedDetails(
                input=execution_input, stateMachineArn=self.state.state_machine_arn
            ),
        )
        root = self.state.frames[""]
        self._work.append(
            lambda: self._enter(root, self.state.machine.scope.start_at, execution_input)
        )
        return self._finish()

    def handle(self, message: Message) -> Decision:
        if self.state.running:
            match message:
                case TaskResult() | TaskError() | TaskPickedUp() | TaskHeartbeat():
                    self._on_task_message(message)
                case TimerFired(timer_id):
                    self._on_timer(timer_id)
                case StopRequested(error, cause):
                    self._emit("ExecutionAborted", ExecutionFailedDetails(error=error, cause=cause))
        return self._finish()

    def _finish(self) -> Decision:
        while self._work and self.state.running:
            self._work.popleft()()
        for timer_id, timer in self.state.timers.items():
            if self._timers_before.get(timer_id) != timer.due_at:
                self.effects.append(StartTimer(timer_id, timer.due_at))
        for timer_id in self._timers_before:
            if timer_id not in self.state.timers and timer_id != self._fired:
                self.effects.append(CancelTimer(timer_id))
        return Decision(self.events, self.effects)

    # -- events --------------------------------------------------------------------------

    def _emit(self, kind: str, details: Details | None = None, scope: str = "") -> HistoryEvent:
        event = HistoryEvent(
            id=self.state.last_event_id + 1,
            previous_event_id=self.state.last_event_id,
            timestamp=self.clock.now(),
            type=kind,
            details=details,
            scope=scope,
        )
        evolve.apply(self.state, event)
        self.events.append(event)
        return event

    def _env(self, frame: Frame) -> Env:
        return evolve.frame_env(self.state, frame, self.entropy, self.clock.now())

    # -- moving through states -----------------------------------------------------------

    def _enter(self, frame: Frame, name: str, data: Any) -> None:
        """Run `frame` from state `name` until it waits, ends or fails."""
        transition: Transition = (name, data)
        while transition is not None and self.state.running:
            name, data = transition
            kind = frame.scope.states[name].type
            self._emit(f"{kind}StateEntered", StateEnteredDetails(name=name, input=data), frame.id)
            transition = self._attempt(frame)

    def _attempt(self, frame: Frame) -> Transition:
        """Do the current state's work (again, after a retry back-off)."""
        current = frame.state
        assert current is not None
        env = self._env(frame)
        token = None
        if isinstance(current, TaskState) and current.resource.waits_for_token:
            task_id = str(self.state.last_event_id + 1)
            token = encode_token(self.state.execution_arn, task_id, self.entropy.uuid())
            env.context["Task"] = {"Token": token}
        try:
            outcome = states.step(current, frame.input, env)
        except StatesError as exc:
            outcome = Raised(exc.error, exc.cause)
        return self._conclude(frame, outcome, env, token)

    def _conclude(
        self, frame: Frame, outcome: Outcome, env: Env, token: str | None = None
    ) -> Transition:
        current = frame.state
        assert current is not None
        match outcome:
            case Done(result):
                return self._exit(frame, result, env)
            case Chose(target, output, assigned):
                if (too_large := self._oversized(frame, output)) is not None:
                    return self._fail_state(frame, too_large.error, too_large.cause, None)
                self._emit_exited(frame, output, assigned)
                return (target, output)
            case Succeeded(output):
                if (too_large := self._oversized(frame, output)) is not None:
                    return self._fail_state(frame, too_large.error, too_large.cause, None)
                self._emit_exited(frame, output, {})
                self._complete(frame, output)
                return None
            case Raised(error, cause):
                return self._fail_state(frame, error, cause, None)
            case RunTask():
                self._schedule(frame, outcome, token)
                return None
            case Sleep():
                return None  # evolve armed the timer when the Wait was entered
            case RunBranches(inputs):
                self._emit("ParallelStateStarted", None, frame.id)
                assert frame.group is not None
                for child_id, branch_input in zip(frame.group.children, inputs, strict=True):
                    child = self.state.frames[child_id]
                    start = child.scope.start_at
                    self._work.append(partial(self._enter, child, start, branch_input))
                return None
            case RunItems():
                return self._start_items(frame, outcome)
        raise AssertionError(f"unhandled outcome {outcome!r}")

    def _exit(self, frame: Frame, result: Any, env: Env) -> Transition:
        current = frame.state
        assert current is not None
        try:
            if isinstance(current, wait.WaitState):
                output, assigned = passthrough_output(current, frame.input, env)
            else:
                output, assigned = shape_output(current, frame.input, result, env)
            check_state_data(current.name, output)
        except StatesError as exc:
            return self._fail_state(frame, exc.error, exc.cause, None)
        self._emit_exited(frame, output, assigned)
        if current.end:
            self._complete(frame, output)
            return None
        assert current.next is not None
        return (current.next, output)

    def _oversized(self, frame: Frame, output: Any) -> StatesError | None:
        assert frame.state is not None
        try:
            check_state_data(frame.state.name, output)
        except StatesError as exc:
            return exc
        return None

    def _emit_exited(self, frame: Frame, output: Any, assigned: dict[str, Any]) -> None:
        assert frame.state is not None
        details = StateExitedDetails(
            name=frame.state.name, output=output, assignedVariables=assigned or None
        )
        self._emit(f"{frame.state.type}StateExited", details, frame.id)

    # -- failures ------------------------------------------------------------------------

    def _fail_state(
        self, frame: Frame, error: str, cause: str, failure: tuple[str, FailureDetails] | None
    ) -> Transition:
        """Retry, catch, or let the error end the frame. `failure` is the event that reports
        a retriable failure of the state's work; errors of the state itself are never retried."""
        current = frame.state
        assert current is not None
        if error == errors.RUNTIME:
            # AWS: a States.Runtime error always fails the execution, whatever Retry or
            # Catch say, even when they name it.
            if failure is not None:
                self._emit(*failure, frame.id)
            self._fail_frame(frame, error, cause)
            return None
        if failure is not None:
            kind, details = failure
            index = evolve.match_retrier(current.retry, error)
            if index is not None and frame.retry_counts[index] < current.retry[index].max_attempts:
                delay = backoff_seconds(
                    current.retry[index], frame.retry_counts[index], self.entropy
                )
                self._emit(kind, details.model_copy(update={"retryDelaySeconds": delay}), frame.id)
                return None
            self._emit(kind, details, frame.id)
        catcher = match_catcher(current.catch, error)
        if catcher is None:
            self._fail_frame(frame, error, cause)
            return None
        env = self._env(frame)
        try:
            output, assigned = caught_output(
                current,
                catcher.result_path,
                catcher.output,
                catcher.assign,
                frame.input,
                {"Error": error, "Cause": cause},
                env,
            )
            check_state_data(current.name, output)
        except StatesError as exc:
            self._fail_frame(frame, exc.error, exc.cause)
            return None
        self._emit_exited(frame, output, assigned)
        return (catcher.next, output)

    def _fail_frame(self, frame: Frame, error: str, cause: str) -> None:
        if frame.parent is None:
            # AWS leaves out an error or cause nobody gave (a Fail state with only a Cause).
            failed = ExecutionFailedDetails(error=error or None, cause=cause or None)
            self._emit("ExecutionFailed", failed)
            return
        parent = self.state.frames[frame.parent]
        assert parent.group is not None and parent.state is not None
        if parent.group.kind == "Map":
            details = MapIterationDetails(name=parent.state.name, index=frame.index)
            self._emit("MapIterationFailed", details, parent.id)
            self._work.append(lambda: self._map_progress(parent, error, cause))
        else:
            self._work.append(lambda: self._branch_failed(parent, error, cause))

    def _branch_failed(self, parent: Frame, error: str, cause: str) -> None:
        if parent.phase is not Phase.CHILDREN or parent.id not in self.state.frames:
            return  # another branch already failed this Parallel
        failure = ("ParallelStateFailed", FailureDetails(error=error, cause=cause))
        self._continue(parent, self._fail_state(parent, error, cause, failure))

    def _continue(self, frame: Frame, transition: Transition) -> None:
        if transition is not None:
            self._enter(frame, *transition)

    # -- finishing a scope ---------------------------------------------------------------

    def _complete(self, frame: Frame, output: Any) -> None:
        if frame.parent is None:
            self._emit("ExecutionSucceeded", ExecutionSucceededDetails(output=output))
            return
        parent = self.state.frames[frame.parent]
        assert parent.group is not None and parent.state is not None
        if parent.group.kind == "Map":
            details = MapIterationDetails(name=parent.state.name, index=frame.index)
            self._emit("MapIterationSucceeded", details, parent.id)
            self._work.append(lambda: self._map_progress(parent))
        else:
            self._work.append(lambda: self._parallel_progress(parent))

    def _parallel_progress(self, parent: Frame) -> None:
        group = parent.group
        if group is None or parent.phase is not Phase.CHILDREN:
            return
        children = [self.state.frames[c] for c in group.children]
        if any(child.phase is not Phase.EXITED for child in children):
            return
        results = [child.output for child in children]
        self._emit("ParallelStateSucceeded", None, parent.id)
        self._continue(parent, self._exit(parent, results, self._env(parent)))

    # -- Map -----------------------------------------------------------------------------

    def _start_items(self, frame: Frame, plan: RunItems) -> Transition:
        self._emit("MapStateStarted", MapStateStartedDetails(length=len(plan.items)), frame.id)
        if not plan.items:
            self._emit("MapStateSucceeded", None, frame.id)
            return self._exit(frame, [], self._env(frame))
        self._work.append(lambda: self._map_progress(frame))
        return None

    def _map_progress(self, frame: Frame, error: str | None = None, cause: str = "") -> None:
        group = frame.group
        if group is None or frame.phase is not Phase.CHILDREN:
            return
        current = frame.state
        assert isinstance(current, map_.MapState)
        if error is not None and (error == errors.RUNTIME or group.exceeded()):
            self._map_failed(frame, error, cause)
            return
        if group.finished == group.total:
            self._emit("MapStateSucceeded", None, frame.id)
            self._continue(frame, self._exit(frame, list(group.results), self._env(frame)))
            return
        limit = group.max_concurrency or group.total
        env = self._env(frame)
        while group.next_index < group.total and len(group.running) < limit:
            index = group.next_index
            try:
                item = map_.item_input(current, frame.input, index, group.items[index], env)
            except StatesError as exc:
                self._map_failed(frame, exc.error, exc.cause)
                return
            self._emit(
                "MapIterationStarted", MapIterationDetails(name=current.name, index=index), frame.id
            )
            child = self.state.frames[f"{frame.id}/{index}"]
            start = current.processor.start_at
            self._work.append(partial(self._enter, child, start, item))

    def _map_failed(self, frame: Frame, error: str, cause: str) -> None:
        group = frame.group
        assert group is not None and frame.state is not None
        for index in sorted(group.running):
            self._emit(
                "MapIterationAborted",
                MapIterationDetails(name=frame.state.name, index=index),
                frame.id,
            )
        if group.tolerates_failures and error != errors.RUNTIME:
            error = errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
            cause = "The specified tolerated failure threshold was exceeded"
        failure = ("MapStateFailed", FailureDetails(error=error, cause=cause))
        self._continue(frame, self._fail_state(frame, error, cause, failure))

    # -- tasks ---------------------------------------------------------------------------

    def _schedule(self, frame: Frame, run: RunTask, token: str | None) -> None:
        assert frame.state is not None
        ref = run.resource
        details: Details
        if ref.legacy_lambda:
            details = LambdaFunctionScheduledDetails(
                resource=ref.arn, input=run.parameters, timeoutInSeconds=run.timeout_seconds
            )
            event = self._emit("LambdaFunctionScheduled", details, frame.id)
        else:
            details = TaskScheduledDetails(
                resourceType=ref.resource_type,
                resource=ref.resource,
                parameters=run.parameters,
                timeoutInSeconds=run.timeout_seconds,
                heartbeatInSeconds=run.heartbeat_seconds,
                taskToken=token,
            )
            event = self._emit("TaskScheduled", details, frame.id)
        self.effects.append(
            ScheduleTask(
                task_id=str(event.id),
                resource=ref,
                payload=run.parameters,
                task_token=token,
                timeout_seconds=run.timeout_seconds,
                heartbeat_seconds=run.heartbeat_seconds,
                state_name=frame.state.name,
                scope=frame.id,
            )
        )

    def _on_task_message(
        self, message: TaskResult | TaskError | TaskPickedUp | TaskHeartbeat
    ) -> None:
        task = self.state.tasks.get(message.task_id)
        if task is None:
            return  # an answer to a task that is no longer pending changes nothing
        frame = self.state.frames[task.frame_id]
        if not task.started:
            self._emit_task_event(frame, "Started", None)
        match message:
            case TaskHeartbeat() if task.heartbeat_seconds is not None:
                self._emit("TaskHeartbeatRecorded", None, frame.id)
            case TaskResult(_, output):
                self._emit_task_event(frame, "Succeeded", output)
                self._continue(frame, self._exit(frame, output, self._env(frame)))
            case TaskError(_, error, cause):
                self._task_failed(frame, "Failed", error, cause)

    def _emit_task_event(self, frame: Frame, outcome: str, output: Any) -> None:
        task = self.state.tasks[frame.task_id] if frame.task_id else None
        assert task is not None
        ref = task.resource
        if ref.legacy_lambda:
            lambda_details = (
                LambdaFunctionSucceededDetails(output=output) if outcome == "Succeeded" else None
            )
            self._emit(f"LambdaFunction{outcome}", lambda_details, frame.id)
        elif outcome == "Started":
            self._emit(
                "TaskStarted",
                TaskStartedDetails(resourceType=ref.resource_type, resource=ref.resource),
                frame.id,
            )
        else:
            details = TaskSucceededDetails(
                resourceType=ref.resource_type, resource=ref.resource, output=output
            )
            self._emit("TaskSucceeded", details, frame.id)

    def _task_failed(self, frame: Frame, outcome: str, error: str, cause: str) -> None:
        task = self.state.tasks[frame.task_id] if frame.task_id else None
        assert task is not None
        ref = task.resource
        if ref.legacy_lambda:
            kind, details = f"LambdaFunction{outcome}", FailureDetails(error=error, cause=cause)
        else:
            kind = f"Task{outcome}"
            details = FailureDetails(
                error=error, cause=cause, resourceType=ref.resource_type, resource=ref.resource
            )
        self._continue(frame, self._fail_state(frame, error, cause, (kind, details)))

    # -- timers --------------------------------------------------------------------------

    def _on_timer(self, timer_id: str) -> None:
        timer = self.state.timers.get(timer_id)
        if timer is None:
            return  # cancelled, or already handled
        self._fired = timer_id
        if timer.kind == evolve.EXECUTION_TIMEOUT:
            details = ExecutionFailedDetails(
                error=errors.TIMEOUT, cause="The execution ran longer than its TimeoutSeconds"
            )
            self._emit("ExecutionTimedOut", details)
            return
        assert timer.frame_id is not None
        frame = self.state.frames[timer.frame_id]
        if timer.kind == "wait":
            self._continue(frame, self._exit(frame, None, self._env(frame)))
        elif timer.kind == "retry":
            self._continue(frame, self._attempt(frame))
        elif timer.kind == "timeout":
            self._task_failed(frame, "TimedOut", errors.TIMEOUT, "Task timed out")
        elif timer.kind == "heartbeat":
            self._task_failed(
                frame, "TimedOut", errors.HEARTBEAT_TIMEOUT, "Task heartbeat timed out"
            )
