"""Every process runs on uvloop unless STEPSTREAM_EVENT_LOOP says asyncio."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from stepstream import event_loop


async def loop_kind() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


def test_a_process_runs_on_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.VARIABLE, raising=False)

    assert issubclass(event_loop.run(loop_kind()), uvloop.Loop)


@pytest.mark.parametrize("setting", ["asyncio", " AsyncIO "])
def test_asyncio_runs_a_process_on_asyncios_own_loop(
    monkeypatch: pytest.MonkeyPatch, setting: str
) -> None:
    monkeypatch.setenv(event_loop.VARIABLE, setting)

    kind = event_loop.run(loop_kind())

    assert not issubclass(kind, uvloop.Loop)
    assert issubclass(kind, asyncio.BaseEventLoop)


def test_an_unknown_loop_is_refused_naming_the_setting_and_the_choices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(event_loop.VARIABLE, "trio")
    main = loop_kind()

    with pytest.raises(event_loop.UnknownEventLoop) as refused:
        event_loop.run(main)

    assert str(refused.value) == "STEPSTREAM_EVENT_LOOP='trio' is not one of uvloop, asyncio"
    assert main.cr_frame is None  # closed, not left to warn that it was never awaited


def test_run_returns_what_the_coroutine_returns_and_raises_what_it_raises() -> None:
    async def answer() -> int:
        await asyncio.sleep(0)
        return 42

    async def fail() -> None:
        raise LookupError("no such order")

    assert event_loop.run(answer(), choice="uvloop") == 42
    with pytest.raises(LookupError, match="no such order"):
        event_loop.run(fail(), choice="asyncio")
