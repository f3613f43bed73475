"""Per-execution locks: one execution's messages wait for each other, and none are kept."""

from __future__ import annotations

import asyncio

from services.orchestrator.locks import KeyedLocks


async def test_holders_of_one_key_take_turns_and_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def hold(key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    await asyncio.gather(hold("a", "a1", 0.05), hold("a", "a2", 0), hold("b", "b1", 0))
    assert order.index("a1 out") < order.index("a2 in")
    assert order.index("b1 in") < order.index("a1 out")


async def test_a_lock_is_gone_once_nobody_holds_or_waits_for_it() -> None:
    locks = KeyedLocks()
    for key in (f"arn-{i}" for i in range(100)):
        async with locks.hold(key):
            assert len(locks) == 1
    assert len(locks) == 0


async def test_a_lock_survives_while_a_waiter_remains() -> None:
    locks = KeyedLocks()
    entered = asyncio.Event()

    async def second() -> None:
        async with locks.hold("a"):
            entered.set()

    async with locks.hold("a"):
        waiter = asyncio.create_task(second())
        await asyncio.sleep(0)
        assert len(locks) == 1
    await waiter
    assert entered.is_set() and len(locks) == 0
