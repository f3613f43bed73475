"""Map (inline): runs its item processor once for each item of an array."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from stepstream.asl import errors, jsonata_expr
from stepstream.asl.dataflow import Env, jsonata, select_path, template
from stepstream.asl.definition import (
    ABSENT,
    QueryLanguage,
    Scope,
    StateDef,
    common_fields,
    parse_scope,
)
from stepstream.asl.errors import StatesError
from stepstream.asl.frames import ExecutionState, Frame, Group, Phase
from stepstream.asl.history import (
    FailureDetails,
    HistoryEvent,
    MapIterationDetails,
    MapRunStartedDetails,
    MapStateStartedDetails,
)
from stepstream.asl.json_values import compact_json
from stepstream.asl.ports import SeededEntropy
from stepstream.asl.states import lifecycle, map_batches
from stepstream.asl.states.outcomes import Outcome, RunItems, Transition

if TYPE_CHECKING:
    from stepstream.asl.states.base import Runner


@dataclass(frozen=True, slots=True, kw_only=True)
class MapState(StateDef):
    processor: Scope
    items_path: str = "$"
    items: Any = ABSENT
    item_selector: Any = ABSENT
    max_concurrency: Any = 0
    max_concurrency_path: str | None = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: str | None = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: str | None = None
    distributed: bool = False
    label: str | None = None
    item_batcher: Any = ABSENT

    def child_scope(self, index: int) -> Scope:
        return self.processor


def parse(name: str, raw: dict[str, Any], language: QueryLanguage) -> MapState:
    processor = raw.get("ItemProcessor") or raw["Iterator"]
    fields = common_fields(name, raw, language)
    # Before ItemSelector existed, Map's Parameters did its job, per item.
    selector = raw.get("ItemSelector", fields.pop("parameters"))
    return MapState(
        **fields,
        parameters=ABSENT,
        processor=parse_scope(processor, processor.get("QueryLanguage", language)),
        items_path=raw.get("ItemsPath", "$"),
        items=raw.get("Items", ABSENT),
        item_selector=selector,
        max_concurrency=raw.get("MaxConcurrency", 0),
        max_concurrency_path=raw.get("MaxConcurrencyPath"),
        tolerated_failure_count=raw.get("ToleratedFailureCount"),
        tolerated_failure_count_path=raw.get("ToleratedFailureCountPath"),
        tolerated_failure_percentage=raw.get("ToleratedFailurePercentage"),
        tolerated_failure_percentage_path=raw.get("ToleratedFailurePercentagePath"),
        distributed=processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED",
        label=raw.get("Label"),
        item_batcher=raw.get("ItemBatcher", ABSENT),
    )


def _number(
    value: Any, path: str | None, data: Any, raw: Any, env: Env, field: str, kind: str = "integer"
) -> Any:
    """MaxConcurrency or a tolerated failure threshold, from its literal, path or JSONata."""
    if path is not None:
        value = select_path(path, data, env, f"{field}Path")
        if not _fits(value, kind):
            shown = value if isinstance(value, str) else compact_json(value)
            raise StatesError(
                errors.RUNTIME,
                f'The {field}Path field refers to value "{shown}" which is not a valid '
                f"{'integer' if kind == 'integer' else 'float'}: {path}",
            )
    elif jsonata_expr.is_expression(value):
        value = jsonata(value, env, field, input=raw)
        if not _fits(value, kind):
            raise StatesError(
                errors.QUERY_EVALUATION_ERROR,
                f"The {field} field must be a non-negative {kind}, got {compact_json(value)}",
            )
    return value


def _fits(value: Any, kind: str) -> bool:
    """A non-negative integer (or, for a percentage, number), as the Path forms require."""
    if isinstance(value, bool):
        return False
    wanted = int if kind == "integer" else int | float
    return isinstance(value, wanted) and value >= 0


def _items(state: MapState, raw: Any, data: Any, env: Env) -> list[Any]:
    if state.is_jsonata:
        items = raw if state.items is ABSENT else jsonata(state.items, env, "Items", input=raw)
    else:
        items = select_path(state.items_path, data, env, "ItemsPath")
    if not isinstance(items, list):
        raise StatesError(
            errors.RUNTIME if not state.is_jsonata else errors.QUERY_EVALUATION_ERROR,
            f"Map state input must be an array but was: {compact_json(items)}",
        )
    return items


def step(state: MapState, raw: Any, env: Env) -> Outcome:
    data = raw if state.is_jsonata else select_path(state.input_path, raw, env, "InputPath")
    items = _items(state, raw, data, env)
    concurrency = _number(
        state.max_concurrency, state.max_concurrency_path, data, raw, env, "MaxConcurrency"
    )
    count = _number(
        state.tolerated_failure_count,
        state.tolerated_failure_count_path,
        data,
        raw,
        env,
        "ToleratedFailureCount",
    )
    percentage = _number(
        state.tolerated_failure_percentage,
        state.tolerated_failure_percentage_path,
        data,
        raw,
        env,
        "ToleratedFailurePercentage",
        "float",
    )
    if percentage is not None and percentage > 100:
        raise StatesError(
            errors.RUNTIME,
            "The ToleratedFailurePercentage field must be between 0 and 100, "
            f"got {compact_json(percentage)}",
        )
    if state.item_batcher is ABSENT:
        return RunItems(tuple(items), int(concurrency or 0), count, percentage)
    return RunItems(
        tuple(items),
        int(concurrency or 0),
        count,
        percentage,
        batches=map_batches.batch_starts(state.item_batcher, items, data, raw, env),
        batch_input=map_batches.batch_input(state, state.item_batcher, data, raw, env),
    )


def iteration_input(state: MapState, raw: Any, group: Group, index: int, env: Env) -> Any:
    """What iteration `index` gets: its item, or with an ItemBatcher its batch of items."""
    if group.batches is None:
        return item_input(state, raw, index, group.items[index], env)
    start = group.batches[index]
    end = group.batches[index + 1] if index + 1 < len(group.batches) else len(group.items)
    selected = [item_input(state, raw, i, group.items[i], env) for i in range(start, end)]
    return map_batches.batch(selected, group.batch_input)


def item_input(state: MapState, raw: Any, index: int, value: Any, env: Env) -> Any:
    """What iteration `index` gets: the item, or what ItemSelector builds from it."""
    if state.item_selector is ABSENT:
        return value
    context = {**env.context, "Map": {"Item": {"Index": index, "Value": value}}}
    item_env = Env(context=context, variables=env.variables, entropy=env.entropy, now=env.now)
    if state.is_jsonata:
        return jsonata(state.item_selector, item_env, "ItemSelector", input=raw)
    data = select_path(state.input_path, raw, env, "InputPath")
    return template(state.item_selector, data, item_env)


# -- deciding ------------------------------------------------------------------------------


def run_items(run: Runner, frame: Frame, plan: RunItems) -> Transition:
    current = frame.state
    assert isinstance(current, MapState)
    run.emit("MapStateStarted", MapStateStartedDetails(length=plan.iterations), frame.id)
    if current.distributed:
        arn = map_batches.map_run_arn(
            run.state.state_machine_arn, current.label or current.name, run.entropy.uuid()
        )
        run.emit("MapRunStarted", MapRunStartedDetails(mapRunArn=arn), frame.id)
    if not plan.items:
        _succeeded(run, frame)
        return run.exit(frame, [], run.env(frame))
    group = frame.group
    run.later(lambda: progress(run, frame, group))
    return None


def iteration_succeeded(run: Runner, parent: Frame, child: Frame) -> None:
    assert parent.state is not None
    details = MapIterationDetails(name=parent.state.name, index=child.index)
    run.emit("MapIterationSucceeded", details, parent.id)
    group = parent.group
    run.later(lambda: progress(run, parent, group))


def iteration_failed(run: Runner, parent: Frame, child: Frame, error: str, cause: str) -> None:
    assert parent.state is not None
    details = MapIterationDetails(name=parent.state.name, index=child.index)
    run.emit("MapIterationFailed", details, parent.id)
    group = parent.group
    run.later(lambda: progress(run, parent, group, error, cause))


def progress(
    run: Runner, frame: Frame, group: Group | None, error: str | None = None, cause: str = ""
) -> None:
    """Start iterations up to MaxConcurrency, or end the Map when all are done or one failed.

    `group` is the run of iterations this progress was queued for: by the time it runs,
    the Map may have ended and its frame moved on to another Parallel or Map.
    """
    if (
        group is None
        or frame.group is not group
        or frame.phase is not Phase.CHILDREN
        or run.state.frames.get(frame.id) is not frame
    ):
        return
    current = frame.state
    assert isinstance(current, MapState)
    if error is not None and (error == errors.RUNTIME or group.exceeded()):
        _fail(run, frame, error, cause)
        return
    if group.finished == group.total:
        _succeeded(run, frame)
        run.resume(frame, run.exit(frame, list(group.results), run.env(frame)))
        return
    limit = group.max_concurrency or group.total
    env = run.env(frame)
    while len(group.running) < limit:
        # After a redrive, the iterations that did not succeed go first.
        if group.redo:
            index = group.redo[0]
        elif group.next_index < group.total:
            index = group.next_index
        else:
            break
        stopped = run.state.frames.get(f"{frame.id}/{index}")
        if stopped is not None and stopped.state is not None:
            run.emit(
                "MapIterationStarted", MapIterationDetails(name=current.name, index=index), frame.id
            )
            run.later(partial(run.revive, stopped))
            continue
        try:
            item = iteration_input(current, frame.input, group, index, env)
        except StatesError as exc:
            _fail(run, frame, exc.error, run.located(frame, exc))
            return
        run.emit(
            "MapIterationStarted", MapIterationDetails(name=current.name, index=index), frame.id
        )
        run.enter_later(run.state.frames[f"{frame.id}/{index}"], item)


def _succeeded(run: Runner, frame: Frame) -> None:
    if isinstance(frame.state, MapState) and frame.state.distributed:
        run.emit("MapRunSucceeded", None, frame.id)
    run.emit("MapStateSucceeded", None, frame.id)


def _fail(run: Runner, frame: Frame, error: str, cause: str) -> None:
    group = frame.group
    assert group is not None and frame.state is not None
    for index in sorted(group.running):
        run.emit(
            "MapIterationAborted",
            MapIterationDetails(name=frame.state.name, index=index),
            frame.id,
        )
    if group.tolerates_failures and error != errors.RUNTIME:
        error = errors.EXCEED_TOLERATED_FAILURE_THRESHOLD
        cause = "The specified tolerated failure threshold was exceeded"
    if isinstance(frame.state, MapState) and frame.state.distributed:
        run.emit("MapRunFailed", FailureDetails(error=error, cause=cause), frame.id)
    failure = ("MapStateFailed", FailureDetails(error=error, cause=cause))
    run.resume(frame, run.fail_state(frame, error, cause, failure))


# -- recording -----------------------------------------------------------------------------


def started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    lifecycle.clear_timer(state, frame)
    state.forget_retired(frame)
    assert isinstance(frame.state, MapState)
    # Selecting the items is pure, so it is done again here rather than stored twice.
    env = lifecycle.frame_env(state, frame, SeededEntropy(0), frame.entered_at or event.timestamp)
    plan = step(frame.state, frame.input, env)
    assert isinstance(plan, RunItems)
    frame.group = Group(
        kind="Map",
        total=plan.iterations,
        results=[None] * plan.iterations,
        items=plan.items,
        max_concurrency=plan.max_concurrency,
        tolerated_count=plan.tolerated_failure_count,
        tolerated_percentage=plan.tolerated_failure_percentage,
        batches=plan.batches,
        batch_input=plan.batch_input,
    )
    frame.phase = Phase.CHILDREN


def _iteration(event: HistoryEvent) -> int:
    details = event.details
    assert isinstance(details, MapIterationDetails)
    return details.index


def iteration_started(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    index = _iteration(event)
    group = frame.group
    assert group is not None
    child_id = f"{frame.id}/{index}"
    # A redriven iteration goes on in the frame it stopped in.
    child = state.frames.get(child_id) or lifecycle.child_frame(state, child_id)
    group.children.append(child.id)
    group.running.add(index)
    if group.redo and group.redo[0] == index:
        group.redo.pop(0)
    group.next_index = max(group.next_index, index + 1)


def iteration_ended(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    index = _iteration(event)
    group = frame.group
    assert group is not None
    child_id = f"{frame.id}/{index}"
    child = state.frames.get(child_id)
    group.running.discard(index)
    frames = [child_id, *state.descendants(child_id)]
    if event.type == "MapIterationSucceeded":
        group.results[index] = child.output if child else None
        group.succeeded.add(index)
        group.finished += 1
        lifecycle.remove_frames(state, frames)
        return
    if event.type == "MapIterationFailed":
        group.failures += 1
        group.finished += 1
    lifecycle.retire_frames(state, frames)


def failed(state: ExecutionState, event: HistoryEvent) -> None:
    frame = lifecycle.event_frame(state, event)
    lifecycle.retire_frames(state, state.descendants(frame.id))
    frame.halted, frame.group = frame.group, None
    lifecycle.state_failed(state, event)


HANDLERS: dict[str, lifecycle.Handler] = {
    "MapStateStarted": started,
    "MapStateSucceeded": lifecycle.children_done,
    "MapStateFailed": failed,
    "MapIterationStarted": iteration_started,
    "MapIterationSucceeded": iteration_ended,
    "MapIterationFailed": iteration_ended,
    "MapIterationAborted": iteration_ended,
}
