"""The steps every state goes through, in a fixed order, for one decision.

A state is entered, does its own work (`states.step`), and then either exits to its Next
state, ends its scope, or fails; a failure is retried, caught, or ends the scope. What
a state does beyond that (schedule a task, arm a timer, start branches or iterations)
lives in its own module, which is handed this runner to record its events.

Work is kept on a queue rather than the call stack, so a Map of thousands of items or a
long chain of states never recurses.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from stepstream.asl import errors, evolve, states
from stepstream.asl.dataflow import Env, caught_output
from stepstream.asl.definition import ABSENT, Catcher, Retrier, StateDef
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, Phase
from stepstream.asl.history import (
    Details,
    ExecutionFailedDetails,
    ExecutionSucceededDetails,
    FailureDetails,
    HistoryEvent,
    StateEnteredDetails,
    StateExitedDetails,
    trusted,
)
from stepstream.asl.jsonpath import is_definite_path
from stepstream.asl.limits import SizeBounds
from stepstream.asl.messages import Effect
from stepstream.asl.ports import Clock, Entropy
from stepstream.asl.retry_after import choose_delay
from stepstream.asl.states import map_, parallel, task
from stepstream.asl.states.lifecycle import frame_env, match_retrier
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
    Transition,
)


def backoff_seconds(retrier: Retrier, attempt: int, entropy: Entropy) -> float:
    """The wait before retry number `attempt + 1`: capped exponential, optionally jittered."""
    delay = retrier.interval_seconds * retrier.backoff_rate**attempt
    if retrier.max_delay_seconds is not None:
        delay = min(delay, retrier.max_delay_seconds)
    if retrier.jitter_strategy == "FULL":
        delay = entropy.random() * delay
    return round(delay, 3)


def _with_retry_delay(details: FailureDetails, retrier: Retrier, drawn: float) -> FailureDetails:
    """The failure's details with the wait before its retry; the why only with a hint."""
    hint = details.retryAfterSeconds
    if hint is None:
        return details.model_copy(update={"retryDelaySeconds": drawn})
    delay = choose_delay(retrier, drawn, hint)
    return details.model_copy(
        update={
            "retryDelaySeconds": delay.seconds,
            "drawnDelaySeconds": drawn,
            "retryDelayReason": delay.reason,
        }
    )


def _output_bound(
    sizes: SizeBounds, state: StateDef, raw: Any, result: Any, output: Any
) -> int | None:
    """An upper bound on the size of a JSONPath state's output, from its input and result,
    or None where the output may hold more than they do (JSONata, ResultSelector)."""
    if output is raw:
        return sizes.of(raw)
    if state.is_jsonata or state.result_selector is not ABSENT:
        return None
    if state.type == "Wait":
        return _passthrough_bound(sizes, state, raw, output)
    if not _only_narrows(state.output_path):
        return None
    path = state.result_path
    if path is None:
        return sizes.of(raw)
    if path == "$":
        return sizes.of(result)
    # Placing the result adds it and, at worst, each key on the way (escaped) with the
    # braces of an object made for it.
    return sizes.of(raw) + sizes.of(result) + 6 * len(path) + 8


def _passthrough_bound(sizes: SizeBounds, state: StateDef, raw: Any, output: Any) -> int | None:
    """An upper bound on the output of a state that hands on (part of) its input."""
    if output is raw:
        return sizes.of(raw)
    if state.is_jsonata:
        return None
    if _only_narrows(state.input_path) and _only_narrows(state.output_path):
        return sizes.of(raw)
    return None


def _only_narrows(path: str | None) -> bool:
    """Whether a path selects at most one value of its input (so never more than it)."""
    return path is None or path == "$" or is_definite_path(path)


def match_catcher(catchers: tuple[Catcher, ...], error: str) -> Catcher | None:
    for catcher in catchers:
        if errors.matches(catcher.error_equals, error):
            return catcher
    return None


class Runner:
    """Runs states forward for one decision, recording every change as an event."""

    def __init__(self, state: ExecutionState, clock: Clock, entropy: Entropy) -> None:
        self.state = state
        self.clock = clock
        self.entropy = entropy
        self.events: list[HistoryEvent] = []
        self.effects: list[Effect] = []
        self.sizes = SizeBounds()
        self._work: deque[Callable[[], None]] = deque()

    def later(self, work: Callable[[], None]) -> None:
        """Queue `work` to run after what is already queued."""
        self._work.append(work)

    def drain(self) -> None:
        while self._work and self.state.running:
            self._work.popleft()()

    def emit(self, kind: str, details: Details | None = None, scope: str = "") -> HistoryEvent:
        event = trusted(
            HistoryEvent,
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

    def env(self, frame: Frame) -> Env:
        return frame_env(self.state, frame, self.entropy, self.clock.now())

    # -- moving through states -----------------------------------------------------------

    def enter(self, frame: Frame, name: str, data: Any) -> None:
        """Run `frame` from state `name` until it waits, ends or fails."""
        transition: Transition = (name, data)
        while transition is not None and self.state.running:
            name, data = transition
            kind = frame.scope.states[name].type
            details = trusted(StateEnteredDetails, name=name, input=data)
            self.emit(f"{kind}StateEntered", details, frame.id)
            transition = self.attempt(frame)

    def enter_later(self, frame: Frame, data: Any) -> None:
        """Queue running `frame` (a branch or an iteration) from its first state."""
        self._work.append(partial(self.enter, frame, frame.scope.start_at, data))

    def attempt(self, frame: Frame) -> Transition:
        """Do the current state's work (again, after a retry back-off)."""
        current = frame.state
        assert current is not None
        env = self.env(frame)
        token = (
            task.issue_token(self, current, env) if isinstance(current, task.TaskState) else None
        )
        try:
            outcome = states.step(current, frame.input, env)
        except StatesError as exc:
            outcome = Raised(exc.error, self.located(frame, exc))
        return self._conclude(frame, outcome, env, token)

    def located(self, frame: Frame, exc: StatesError) -> str:
        """The cause of an error `frame`'s current state raised, saying where it happened."""
        assert frame.state is not None
        return errors.located(exc.error, exc.cause, frame.state.name, frame.entered_event)

    def _conclude(self, frame: Frame, outcome: Outcome, env: Env, token: str | None) -> Transition:
        match outcome:
            case Done(result):
                return self.exit(frame, result, env)
            case Chose(target, output, assigned):
                if (too_large := self._oversized(frame, output)) is not None:
                    return self.fail_state(frame, too_large.error, too_large.cause, None)
                self.emit_exited(frame, output, assigned)
                return (target, output)
            case Succeeded(output):
                if (too_large := self._oversized(frame, output)) is not None:
                    return self.fail_state(frame, too_large.error, too_large.cause, None)
                self.emit_exited(frame, output, {})
                self.complete(frame, output)
                return None
            case Raised(error, cause):
                return self.fail_state(frame, error, cause, None)
            case RunTask():
                task.schedule(self, frame, outcome, token)
                return None
            case Sleep():
                return None  # evolve armed the timer when the Wait was entered
            case RunBranches():
                parallel.run_branches(self, frame, outcome)
                return None
            case RunItems():
                return map_.run_items(self, frame, outcome)
        raise AssertionError(f"unhandled outcome {outcome!r}")

    def exit(self, frame: Frame, result: Any, env: Env) -> Transition:
        """Shape the state's output from its result and move on to Next, or end the scope."""
        current = frame.state
        assert current is not None
        try:
            if result is not None:
                # A result over the limit fails the state even if ResultPath drops it.
                self.sizes.check(current.name, result)
            output, assigned = states.output(current, frame.input, result, env)
            bound = _output_bound(self.sizes, current, frame.input, result, output)
            self.sizes.check(current.name, output, bound)
        except StatesError as exc:
            return self.fail_state(frame, exc.error, self.located(frame, exc), None)
        self.emit_exited(frame, output, assigned)
        if current.end:
            self.complete(frame, output)
            return None
        assert current.next is not None
        return (current.next, output)

    def revive(self, frame: Frame) -> None:
        """Go on with a frame a redrive reopened, from where it stopped.

        A branch or iteration that succeeded keeps its output; a Parallel or Map goes on
        with its branches or iterations that did not; any other state is entered afresh,
        so its retries count from zero again.
        """
        if frame.phase is Phase.EXITED:
            return
        group = frame.group
        if frame.phase is Phase.CHILDREN and group is not None:
            if group.kind == "Map":
                for index in sorted(group.running):
                    self.revive(self.state.frames[f"{frame.id}/{index}"])
                self.later(partial(map_.progress, self, frame, group))
            else:
                for child_id in group.children:
                    self.revive(self.state.frames[child_id])
            return
        assert frame.state is not None
        self.later(partial(self.enter, frame, frame.state.name, frame.input))

    def resume(self, frame: Frame, transition: Transition) -> None:
        if transition is not None:
            self.enter(frame, *transition)

    def _oversized(self, frame: Frame, output: Any) -> StatesError | None:
        """Whether a state without a result (Choice, Succeed) hands on too much."""
        current = frame.state
        assert current is not None
        bound = _passthrough_bound(self.sizes, current, frame.input, output)
        try:
            self.sizes.check(current.name, output, bound)
        except StatesError as exc:
            return exc
        return None

    def emit_exited(self, frame: Frame, output: Any, assigned: dict[str, Any]) -> None:
        assert frame.state is not None
        details = trusted(
            StateExitedDetails,
            name=frame.state.name,
            output=output,
            assignedVariables=assigned or None,
        )
        self.emit(f"{frame.state.type}StateExited", details, frame.id)

    # -- failures ------------------------------------------------------------------------

    def fail_state(
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
                self.emit(*failure, frame.id)
            self.fail_frame(frame, error, cause)
            return None
        if failure is not None:
            kind, details = failure
            index = match_retrier(current.retry, error)
            if index is not None and frame.retry_counts[index] < current.retry[index].max_attempts:
                retrier = current.retry[index]
                drawn = backoff_seconds(retrier, frame.retry_counts[index], self.entropy)
                self.emit(kind, _with_retry_delay(details, retrier, drawn), frame.id)
                return None
            self.emit(kind, details, frame.id)
        catcher = match_catcher(current.catch, error)
        if catcher is None:
            self.fail_frame(frame, error, cause)
            return None
        env = self.env(frame)
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
            self.sizes.check(current.name, output)
        except StatesError as exc:
            self.fail_frame(frame, exc.error, self.located(frame, exc))
            return None
        self.emit_exited(frame, output, assigned)
        return (catcher.next, output)

    def fail_frame(self, frame: Frame, error: str, cause: str) -> None:
        """End `frame` with an error: the execution fails, or the Parallel or Map above hears."""
        if frame.parent is None:
            # AWS leaves out an error or cause nobody gave (a Fail state with only a Cause).
            failed = ExecutionFailedDetails(error=error or None, cause=cause or None)
            self.emit("ExecutionFailed", failed)
            return
        parent = self.state.frames[frame.parent]
        assert parent.group is not None and parent.state is not None
        if parent.group.kind == "Map":
            map_.iteration_failed(self, parent, frame, error, cause)
        else:
            parallel.branch_failed(self, parent, error, cause)

    # -- finishing a scope ---------------------------------------------------------------

    def complete(self, frame: Frame, output: Any) -> None:
        """End `frame` with `output`: the execution succeeds, or the Parallel or Map hears."""
        if frame.parent is None:
            self.emit("ExecutionSucceeded", ExecutionSucceededDetails(output=output))
            return
        parent = self.state.frames[frame.parent]
        assert parent.group is not None and parent.state is not None
        if parent.group.kind == "Map":
            map_.iteration_succeeded(self, parent, frame)
        else:
            parallel.branch_succeeded(self, parent)
