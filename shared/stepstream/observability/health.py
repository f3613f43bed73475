"""Health checks a process's parts register while they run.

A process is healthy when every registered check passes: its Kafka clients can reach the
broker, its consumer groups are joined, its databases answer. Parts register themselves
when they start (the Kafka publisher and subscriber, ``open_database``) and go away when
stopped or collected, so a process's health is that of what it is running now.
"""

from __future__ import annotations

import asyncio
import itertools
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

# A check passes by returning; it fails by raising, with what is wrong as the message.
Check = Callable[[], Awaitable[None]]

CHECK_TIMEOUT_SECONDS = 3.0


class Unhealthy(Exception):
    """A check's way of saying what is wrong."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str = ""


class HealthChecks:
    """Named checks, each alive as long as its owner (if given) is."""

    def __init__(self) -> None:
        self._checks: dict[int, tuple[str, Check, weakref.ref[object] | None]] = {}
        self._ids = itertools.count()

    def register(
        self, name: str, check: Check, *, owner: object | None = None
    ) -> Callable[[], None]:
        """Add ``check``; returns a function that removes it.

        With ``owner`` the check goes when the owner is collected, for parts that are
        closed without anyone unregistering them.
        """
        key = next(self._ids)
        ref = None if owner is None else weakref.ref(owner, lambda _: self._checks.pop(key, None))
        if owner is not None and getattr(check, "__self__", None) is owner:
            check = _weak_method(check)  # a bound method would keep its owner alive
        self._checks[key] = (name, check, ref)
        return lambda: self._checks.pop(key, None) and None

    def names(self) -> list[str]:
        return [name for name, _, _ in self._checks.values()]

    async def run(self, timeout: float = CHECK_TIMEOUT_SECONDS) -> list[CheckResult]:
        """Every check, run together, each within ``timeout`` seconds."""
        checks = [(name, check) for name, check, _ in list(self._checks.values())]
        return list(await asyncio.gather(*(_run(name, check, timeout) for name, check in checks)))


def _weak_method(check: Check) -> Check:
    method = weakref.WeakMethod(check)

    async def call() -> None:
        bound = method()
        if bound is None:
            raise Unhealthy("gone")
        await bound()

    return call


async def _run(name: str, check: Check, timeout: float) -> CheckResult:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return CheckResult(name, False, f"no answer within {timeout:g} s")
    except Exception as exc:
        return CheckResult(name, False, str(exc) or type(exc).__name__)
    return CheckResult(name, True)


# The checks of this process; the health endpoint reports them.
PROCESS_CHECKS = HealthChecks()
