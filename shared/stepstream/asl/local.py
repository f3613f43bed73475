"""A one-shot local run: the engine in-process, Lambda resources bound to Python functions.

This is the engine's simplest caller. It carries out the engine's effects itself: a
scheduled task calls a Python function `NAME(event, context)`, a timer either moves a
virtual clock (so an hour's Wait costs nothing) or waits in real time.
"""

from __future__ import annotations

import heapq
import importlib.util
import inspect
import json
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from stepstream.asl import errors
from stepstream.asl.definition import StateMachineDef
from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.json_values import compact_json, copy_json
from stepstream.asl.messages import (
    CancelTimer,
    Decision,
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
from stepstream.asl.ports import Clock, Entropy, SeededEntropy, SystemClock, VirtualClock
from stepstream.asl.resources import function_name
from stepstream.asl.retry_after import hint_of

LambdaFunction = Callable[[Any, Any], Any]

MARSHAL_ERROR = "Runtime.MarshalError"


@dataclass(frozen=True, slots=True)
class LambdaContext:
    """The subset of Lambda's context object a handler commonly reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def lambda_error_cause(exc: BaseException) -> str:
    """The cause text Lambda reports for an unhandled exception."""
    # The first frame is the binding's own call into the function: Lambda shows only the
    # handler's frames.
    tb = exc.__traceback__
    frames = traceback.format_tb(tb.tb_next if tb is not None and tb.tb_next is not None else tb)
    return compact_json(
        {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": [f.rstrip() for f in frames],
        }
    )


class _Call:
    """One call of a function, in this thread or, bounded by a deadline, in its own."""

    def __init__(self, function: LambdaFunction, event: Any, context: LambdaContext) -> None:
        self.function = function
        self.event = event
        self.context = context
        self.result: Any = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.result = self.function(self.event, self.context)
        except Exception as exc:
            self.error = exc

    def run_within(self, seconds: float) -> bool:
        """Whether the call finished within `seconds`; one that did not runs on unheeded,
        as a Lambda function past its timeout is cut off from its caller."""
        worker = threading.Thread(target=self.run, name="stepstream-lambda", daemon=True)
        worker.start()
        worker.join(seconds)
        return not worker.is_alive()


class LocalBinding:
    """Lambda-style resources run as the Python function of the same name."""

    def __init__(self, functions: Mapping[str, LambdaFunction], entropy: Entropy) -> None:
        self.functions = dict(functions)
        self.entropy = entropy

    def invoke(self, task: ScheduleTask) -> TaskResult | TaskError | TaskPickedUp | None:
        """Run the task; TaskPickedUp means it started and now waits for a callback.

        None means the function was still running at the task's TimeoutSeconds: it is
        left to itself, and the engine's timeout timer fails the state.
        """
        name = function_name(task.resource, task.payload)
        if name is None and task.resource.waits_for_token:
            # Nothing here serves it (a queue, say): it is handed over, and the caller
            # answers with the token.
            return TaskPickedUp(task.task_id)
        if name is None:
            return TaskError(
                task.task_id, errors.RUNTIME, f"No local binding for resource '{task.resource.arn}'"
            )
        function = self.functions.get(name)
        if function is None:
            return TaskError(
                task.task_id, "Lambda.ResourceNotFoundException", f"Function not found: {name}"
            )
        invoke_form = not task.resource.legacy_lambda
        payload = (
            task.payload.get("Payload", {})
            if invoke_form and isinstance(task.payload, dict)
            else task.payload
        )
        # Lambda gets a serialised copy: what the function does to its event is its own.
        event = copy_json(payload)
        context = LambdaContext(function_name=name, aws_request_id=self.entropy.uuid())
        call = _Call(function, event, context)
        if task.timeout_seconds is None:
            call.run()
        elif not call.run_within(task.timeout_seconds):
            return None
        if call.error is not None:
            exc = call.error
            # A function's error may say how long to wait before a retry, as a service's does.
            return TaskError(
                task.task_id, type(exc).__name__, lambda_error_cause(exc), hint_of(exc)
            )
        result = call.result
        try:
            result = json.loads(json.dumps(result))
        except (TypeError, ValueError) as exc:
            # What Lambda's Python runtime reports for a return value it cannot serialise.
            cause = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": MARSHAL_ERROR,
            }
            return TaskError(task.task_id, MARSHAL_ERROR, compact_json({**cause, "stackTrace": []}))
        if task.resource.waits_for_token:
            return TaskPickedUp(task.task_id)
        if invoke_form:
            result = {
                "ExecutedVersion": "$LATEST",
                "Payload": result,
                "SdkHttpMetadata": {"HttpStatusCode": 200},
                "SdkResponseMetadata": {"RequestId": context.aws_request_id},
                "StatusCode": 200,
            }
        return TaskResult(task.task_id, result)


class LocalRunner:
    """Runs one execution to its end (or until it waits on a callback nobody will send)."""

    def __init__(
        self,
        machine: StateMachineDef,
        *,
        functions: Mapping[str, LambdaFunction] | None = None,
        virtual_time: bool = True,
        seed: int | None = None,
        clock: Clock | None = None,
        execution_name: str = "local",
    ) -> None:
        self.clock: Clock = clock or (VirtualClock() if virtual_time else SystemClock())
        self.entropy = SeededEntropy(seed)
        self.binding = LocalBinding(functions or {}, self.entropy)
        arn = f"arn:aws:states:local:000000000000:execution:local:{execution_name}"
        self.execution = Execution(machine, execution_arn=arn, name=execution_name)
        self.history: list[HistoryEvent] = []
        self._tasks: deque[ScheduleTask] = deque()
        self._timers: dict[str, Any] = {}
        self._heap: list[tuple[Any, str]] = []

    def start(self, execution_input: Any) -> None:
        self._take(self.execution.start(execution_input, clock=self.clock, entropy=self.entropy))

    def send(self, message: Message) -> None:
        self._take(self.execution.handle(message, clock=self.clock, entropy=self.entropy))

    def send_task_success(self, token: str, output: Any) -> None:
        self.send(TaskResult(self.execution.task_for_token(token).task_id, output))

    def send_task_failure(self, token: str, error: str = "", cause: str = "") -> None:
        self.send(TaskError(self.execution.task_for_token(token).task_id, error, cause))

    def send_task_heartbeat(self, token: str) -> None:
        self.send(TaskHeartbeat(self.execution.task_for_token(token).task_id))

    def stop(self, error: str | None = None, cause: str | None = None) -> None:
        self.send(StopRequested(error, cause))

    def redrive(self, client_token: str | None = None) -> None:
        """Redrive the stopped execution (NotRedrivable says why it cannot be)."""
        # What was still queued or armed belongs to the attempt that stopped.
        self._tasks.clear()
        self._timers.clear()
        self._heap.clear()
        decision = self.execution.redrive(
            clock=self.clock, entropy=self.entropy, client_token=client_token
        )
        self._take(decision)

    def run(self, execution_input: Any) -> Execution:
        self.start(execution_input)
        self.run_until_idle()
        return self.execution

    def run_until_idle(self) -> None:
        """Carry out tasks and timers until the execution ends or only callbacks are left."""
        while self.execution.status == "RUNNING":
            self._run_tasks()
            if not self._fire_next_timer(None):
                return

    def settle(self) -> None:
        """Carry out the scheduled tasks and the timers already due, without moving the clock.

        What waits on a callback or a later moment stays waiting: a test can then answer,
        heartbeat or `advance` the clock as the outside world would.
        """
        self._advance_to(self.clock.now())

    def advance(self, seconds: float) -> None:
        """Move the virtual clock on, firing each timer at its own moment on the way."""
        if not isinstance(self.clock, VirtualClock):
            raise TypeError("advance() needs a virtual clock")
        self._advance_to(self.clock.now() + timedelta(seconds=seconds))

    def _advance_to(self, moment: datetime) -> None:
        self._run_tasks()
        while self.execution.status == "RUNNING" and self._fire_next_timer(moment):
            self._run_tasks()
        if isinstance(self.clock, VirtualClock):
            self.clock.advance_to(moment)

    def _run_tasks(self) -> None:
        while self._tasks and self.execution.status == "RUNNING":
            answer = self.binding.invoke(self._tasks.popleft())
            if answer is not None:  # else its timeout timer answers
                self.send(answer)

    def _fire_next_timer(self, until: datetime | None) -> bool:
        """Fire the earliest live timer, if it is due by `until` (None: whenever it is due)."""
        while self._heap:
            due, timer_id = self._heap[0]
            if self._timers.get(timer_id) != due:
                heapq.heappop(self._heap)
                continue  # cancelled or moved
            if until is not None and due > until:
                return False
            heapq.heappop(self._heap)
            del self._timers[timer_id]
            if isinstance(self.clock, VirtualClock):
                self.clock.advance_to(due)
            else:
                time.sleep(max(0.0, (due - self.clock.now()).total_seconds()))
            self.send(TimerFired(timer_id))
            return True
        return False

    def _take(self, decision: Decision) -> None:
        self.history.extend(decision.events)
        for effect in decision.effects:
            match effect:
                case ScheduleTask():
                    self._tasks.append(effect)
                case StartTimer(timer_id, due_at):
                    self._timers[timer_id] = due_at
                    heapq.heappush(self._heap, (due_at, timer_id))
                case CancelTimer(timer_id):
                    self._timers.pop(timer_id, None)

    def result(self) -> dict[str, Any]:
        """The execution's outcome, as `stepstream run` prints it."""
        execution = self.execution
        return {
            "status": execution.status,
            "output": execution.output,
            "error": execution.error,
            "cause": execution.cause,
        }


def load_functions(path: str | Path) -> dict[str, LambdaFunction]:
    """Every top-level function defined in a Python file, by name."""
    source = Path(path)
    spec = importlib.util.spec_from_file_location(f"stepstream_functions_{source.stem}", source)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load functions from {source}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value.__module__ == module.__name__
        and not name.startswith("_")
    }
