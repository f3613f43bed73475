"""Contract: the executions index and the state machine registry."""

from __future__ import annotations

import asyncio
import json

import pytest

from stepstream.store import (
    DuplicateExecutionName,
    ExecutionRecord,
    ExecutionStatus,
    ExecutionStore,
    ListPosition,
    OwnedByAnotherStream,
)

from .builders import T0, arn, events, execution

DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
BINDINGS = json.dumps({"resources": {}})


class ExecutionIndexContract:
    async def test_an_execution_is_indexed_with_its_append(self, store: ExecutionStore) -> None:
        started = execution(arn("order-1"), started=3)
        await store.append("s1", 0, events("ExecutionStarted"), execution=started)
        assert await store.get_execution(arn("order-1")) == started
        assert await store.get_execution(arn("nobody")) is None

    async def test_a_later_append_updates_the_row(self, store: ExecutionStore) -> None:
        a = arn("order-1")
        await store.append("s1", 0, events("ExecutionStarted"), execution=execution(a))
        done = execution(
            a,
            status=ExecutionStatus.FAILED,
            error="OrderFulfillmentFailed",
            cause="carrier said no",
            stop_date=T0.replace(hour=13),
        )
        await store.append("s1", 1, events("ExecutionFailed"), execution=done)
        assert await store.get_execution(a) == done

    async def test_listing_is_newest_first_and_filters(self, store: ExecutionStore) -> None:
        rows = [
            execution(arn("a"), started=1),
            execution(arn("b"), started=3, status=ExecutionStatus.SUCCEEDED, output="{}"),
            execution(arn("c", "Refunds"), machine="Refunds", started=2),
        ]
        for i, row in enumerate(rows):
            await store.append(f"s{i}", 0, events("ExecutionStarted"), execution=row)

        def names(found: list[ExecutionRecord]) -> list[str]:
            return [r.name for r in found]

        assert names(await store.list_executions()) == ["b", "c", "a"]
        assert names(await store.list_executions("Fulfilment")) == ["b", "a"]
        assert names(await store.list_executions(status=ExecutionStatus.RUNNING)) == ["c", "a"]
        assert names(await store.list_executions("Fulfilment", ExecutionStatus.RUNNING)) == ["a"]
        assert names(await store.list_executions(limit=1)) == ["b"]
        assert await store.list_executions("NoSuchMachine") == []

    async def test_pages_follow_one_another_without_gaps_or_repeats(
        self, store: ExecutionStore
    ) -> None:
        # Two pairs started at the same moment: the ARN orders each pair.
        starts = {"a": 1, "b": 2, "c": 2, "d": 3, "e": 3, "f": 4, "g": 0}
        for i, (name, started) in enumerate(starts.items()):
            row = execution(arn(name), started=started)
            await store.append(f"s{i}", 0, events("ExecutionStarted"), execution=row)

        pages: list[list[str]] = []
        after: ListPosition | None = None
        while page := await store.list_executions(limit=2, after=after):
            pages.append([r.name for r in page])
            after = ListPosition.after(page[-1])

        assert pages == [["f", "d"], ["e", "b"], ["c", "a"], ["g"]]

    async def test_a_page_keeps_the_filters(self, store: ExecutionStore) -> None:
        for i, name in enumerate("abcd"):
            status = ExecutionStatus.SUCCEEDED if name in "bd" else ExecutionStatus.RUNNING
            output = "{}" if status is ExecutionStatus.SUCCEEDED else None
            row = execution(arn(name), started=i, status=status, output=output)
            await store.append(f"s{i}", 0, events("ExecutionStarted"), execution=row)
        [first] = await store.list_executions(status=ExecutionStatus.RUNNING, limit=1)

        rest = await store.list_executions(
            status=ExecutionStatus.RUNNING, after=ListPosition.after(first)
        )

        assert (first.name, [r.name for r in rest]) == ("c", ["a"])

    async def test_redrives_are_kept_and_filter_the_listing(self, store: ExecutionStore) -> None:
        again = execution(
            arn("again"),
            status=ExecutionStatus.RUNNING,
            redrive_count=2,
            redrive_date=T0.replace(hour=14),
        )
        await store.append("s1", 0, events("ExecutionStarted"), execution=again)
        await store.append("s2", 0, events("ExecutionStarted"), execution=execution(arn("once")))
        assert await store.get_execution(arn("again")) == again
        assert (await store.get_execution(arn("once"))).redrive_count == 0  # type: ignore[union-attr]
        redriven = await store.list_executions(redriven=True)
        never = await store.list_executions(redriven=False)
        assert [r.name for r in redriven] == ["again"]
        assert [r.name for r in never] == ["once"]

    async def test_an_unknown_status_filter_is_refused(self, store: ExecutionStore) -> None:
        with pytest.raises(ValueError, match="status 'DONE' is not one of"):
            await store.list_executions(status="DONE")  # type: ignore[arg-type]

    async def test_a_duplicate_name_is_detected_and_writes_nothing(
        self, store: ExecutionStore
    ) -> None:
        first = execution(arn("order-1"), name="order-1")
        await store.append("s1", 0, events("ExecutionStarted"), execution=first)
        twin = execution(arn("order-1-again"), name="order-1", input_='{"order": 2}')

        with pytest.raises(DuplicateExecutionName) as caught:
            await store.append("s2", 0, events("ExecutionStarted"), execution=twin)

        assert caught.value.existing_arn == arn("order-1")
        assert (caught.value.state_machine_name, caught.value.name) == ("Fulfilment", "order-1")
        assert await store.read("s2") == []
        assert await store.list_executions() == [first]

    async def test_racing_starts_of_one_name_let_exactly_one_through(
        self, store: ExecutionStore
    ) -> None:
        starts = [execution(arn(f"try-{i}"), name="order-7") for i in range(4)]
        results = await asyncio.gather(
            *(
                store.append(f"s{i}", 0, events("ExecutionStarted"), execution=start)
                for i, start in enumerate(starts)
            ),
            return_exceptions=True,
        )
        winners = [i for i, r in enumerate(results) if r == 1]
        assert len(winners) == 1
        refused = [r for r in results if isinstance(r, DuplicateExecutionName)]
        assert len(refused) == 3
        assert {r.existing_arn for r in refused} == {arn(f"try-{winners[0]}")}
        assert await store.list_executions() == [starts[winners[0]]]

    async def test_the_same_name_in_another_machine_is_fine(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), execution=execution(arn("x"), name="n"))
        other = execution(arn("y", "Refunds"), machine="Refunds", name="n")
        await store.append("s2", 0, events("A"), execution=other)
        assert await store.get_execution(arn("y", "Refunds")) == other

    async def test_an_execution_stays_with_its_stream(self, store: ExecutionStore) -> None:
        await store.append("s1", 0, events("A"), execution=execution(arn("x")))
        with pytest.raises(OwnedByAnotherStream, match="belongs to stream 's1'"):
            await store.append("s2", 0, events("A"), execution=execution(arn("x")))
        assert await store.read("s2") == []


class RegistryContract:
    async def test_versions_change_only_when_the_content_does(self, store: ExecutionStore) -> None:
        assert await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS) == 1
        assert await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS) == 1
        reformatted = json.dumps(json.loads(DEFINITION), indent=2, sort_keys=True)
        assert await store.put_state_machine("Fulfilment", reformatted, BINDINGS) == 1

        changed = DEFINITION.replace("Succeed", "Pass")
        assert await store.put_state_machine("Fulfilment", changed, BINDINGS) == 2
        rebound = json.dumps({"resources": {"x": "topic"}})
        assert await store.put_state_machine("Fulfilment", changed, rebound) == 3
        assert await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS) == 4

    async def test_any_version_can_be_read_back(self, store: ExecutionStore) -> None:
        changed = DEFINITION.replace("Succeed", "Pass")
        await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS)
        await store.put_state_machine("Fulfilment", changed, BINDINGS)

        latest = await store.get_state_machine("Fulfilment")
        first = await store.get_state_machine("Fulfilment", 1)
        assert latest is not None and first is not None
        assert (latest.version, latest.definition) == (2, changed)
        assert (first.version, first.definition, first.bindings) == (1, DEFINITION, BINDINGS)
        assert first.created_at == T0
        assert await store.get_state_machine("Fulfilment", 3) is None
        assert await store.get_state_machine("Nobody") is None

    async def test_listing_gives_each_latest_version(self, store: ExecutionStore) -> None:
        await store.put_state_machine("Refunds", DEFINITION, BINDINGS)
        await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS)
        await store.put_state_machine("Fulfilment", DEFINITION.replace("Succeed", "Pass"), BINDINGS)
        listed = await store.list_state_machines()
        assert [(m.name, m.version) for m in listed] == [("Fulfilment", 2), ("Refunds", 1)]

    async def test_a_deleted_machine_keeps_its_versions_for_its_executions(
        self, store: ExecutionStore
    ) -> None:
        await store.put_state_machine("Refunds", DEFINITION, BINDINGS)
        await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS)

        assert await store.delete_state_machine("Fulfilment") is True
        assert await store.delete_state_machine("Fulfilment") is False
        assert await store.delete_state_machine("Nobody") is False

        assert await store.get_state_machine("Fulfilment") is None
        assert [m.name for m in await store.list_state_machines()] == ["Refunds"]
        kept = await store.get_state_machine("Fulfilment", 1)
        assert kept is not None and kept.definition == DEFINITION

    async def test_a_deleted_machine_created_again_goes_on_counting(
        self, store: ExecutionStore
    ) -> None:
        await store.put_state_machine("Fulfilment", DEFINITION, BINDINGS)
        await store.delete_state_machine("Fulfilment")
        changed = DEFINITION.replace("Succeed", "Pass")

        assert await store.put_state_machine("Fulfilment", changed, BINDINGS) == 2
        latest = await store.get_state_machine("Fulfilment")
        assert latest is not None and latest.version == 2
        assert [m.version for m in await store.list_state_machines()] == [2]

    @pytest.mark.parametrize(
        ("name", "definition", "bindings", "complaint"),
        [
            ("", DEFINITION, BINDINGS, "state machine name"),
            ("has space", DEFINITION, BINDINGS, "no spaces"),
            ("M", "{not json", BINDINGS, "definition is not valid JSON"),
            ("M", "[1, 2]", BINDINGS, "definition must be a JSON object"),
            ("M", DEFINITION, "null", "bindings must be a JSON object"),
        ],
    )
    async def test_a_malformed_registration_is_refused(
        self, store: ExecutionStore, name: str, definition: str, bindings: str, complaint: str
    ) -> None:
        with pytest.raises(ValueError, match=complaint):
            await store.put_state_machine(name, definition, bindings)
        assert await store.list_state_machines() == []
