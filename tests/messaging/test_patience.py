"""A message that the broker cannot take now is sent again; a real error is not hidden."""

from __future__ import annotations

import pytest

from stepstream.messaging.bus import PublishFailed
from stepstream.messaging.patience import until_published


class FlakySend:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)


async def test_a_send_the_broker_refused_for_now_is_made_again_until_it_goes_through() -> None:
    send = FlakySend([PublishFailed("restarting"), PublishFailed("not ready")])

    await until_published(send, "a reply", first_pause=0.001)

    assert send.calls == 3


async def test_an_error_other_than_not_now_is_raised_at_once() -> None:
    send = FlakySend([ValueError("a bug, not the broker")])

    with pytest.raises(ValueError, match="a bug"):
        await until_published(send, "a reply", first_pause=0.001)
    assert send.calls == 1
