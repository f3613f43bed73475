"""Loading executions: from a cache, else by replaying their history from the store."""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass

from stepstream import arns
from stepstream.asl.decide import internal_error_cause
from stepstream.asl.definition import StateMachineDef
from stepstream.asl.execution import Execution
from stepstream.asl.history import HistoryEvent
from stepstream.asl.machine import load_machine
from stepstream.bindings import Bindings, read_stored
from stepstream.store.base import ExecutionReader
from stepstream.store.records import ExecutionRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MachineVersion:
    name: str
    version: int
    machine: StateMachineDef
    bindings: Bindings
    # Set when the stored bindings cannot be used: every task of this version then fails.
    bindings_problem: str | None = None


@dataclass(slots=True)
class Loaded:
    """An execution ready to be moved on, with the machine version it started with."""

    execution: Execution
    machine: MachineVersion
    # Why the stored history could not be replayed, when it could not: the execution then
    # holds only what its index row says, and all that is left to do is to fail it.
    unreadable: str | None = None


class UnknownStateMachine(LookupError):
    """StateMachineDoesNotExist, as Step Functions calls it."""


class ExecutionRepository:
    """Executions by ARN. The history in the store is the truth; the cache only saves replays.

    A cached execution whose append failed is no longer trustworthy (the decider changed
    it in memory), so callers `forget` it and the next load replays the stored history.
    """

    def __init__(self, store: ExecutionReader, *, cache_size: int = 10_000) -> None:
        self.store = store
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Loaded] = OrderedDict()
        self._machines: dict[tuple[str, int], MachineVersion] = {}

    async def machine(self, name: str, version: int | None = None) -> MachineVersion:
        if version is not None and (name, version) in self._machines:
            return self._machines[(name, version)]
        record = await self.store.get_state_machine(name, version)
        if record is None:
            raise UnknownStateMachine(f"State Machine Does Not Exist: '{name}'")
        key = (record.name, record.version)
        if key not in self._machines:
            bindings, problem = read_stored(record.bindings)
            if problem is not None:
                log.error("state machine %s:%d has bad bindings: %s", *key, problem)
            self._machines[key] = MachineVersion(
                record.name, record.version, load_machine(record.definition), bindings, problem
            )
        return self._machines[key]

    def new(self, machine: MachineVersion, name: str) -> Loaded:
        execution = Execution(
            machine.machine,
            execution_arn=arns.execution_arn(machine.name, name),
            state_machine_arn=arns.state_machine_arn(machine.name),
            name=name,
        )
        return Loaded(execution, machine)

    async def load(self, execution_arn: str) -> Loaded | None:
        cached = self._cache.get(execution_arn)
        if cached is not None:
            self._cache.move_to_end(execution_arn)
            return cached
        record = await self.store.get_execution(execution_arn)
        if record is None:
            return None
        machine = await self.machine(record.state_machine_name, record.state_machine_version)
        stored = await self.store.read(execution_arn)
        loaded = self.new(machine, record.name)
        try:
            for event in stored:
                loaded.execution.apply(HistoryEvent.from_record(event.data))
        except Exception as exc:
            # Stored data must not crash-loop the orchestrator: this one execution fails.
            log.exception("the history of %s does not replay", execution_arn)
            return self._salvaged(machine, record, stored[-1].version if stored else 0, exc)
        self.remember(loaded)
        return loaded

    def _salvaged(
        self, machine: MachineVersion, record: ExecutionRecord, version: int, exc: Exception
    ) -> Loaded:
        loaded = self.new(machine, record.name)
        state = loaded.execution.state
        state.status = record.status.value
        state.input = json.loads(record.input)
        state.start_date = record.start_date
        state.last_event_id = version
        loaded.unreadable = internal_error_cause(exc)
        return loaded

    def remember(self, loaded: Loaded) -> None:
        arn = loaded.execution.state.execution_arn
        if loaded.execution.status != "RUNNING":
            self._cache.pop(arn, None)  # finished executions are rarely touched again
            return
        self._cache[arn] = loaded
        self._cache.move_to_end(arn)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def forget(self, execution_arn: str) -> None:
        self._cache.pop(execution_arn, None)

    def running(self) -> list[Loaded]:
        return list(self._cache.values())
