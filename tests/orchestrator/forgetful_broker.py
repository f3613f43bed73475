"""A broker that acknowledges every request but hands the orchestrator only some of them."""

from __future__ import annotations

from collections.abc import Sequence

from services.orchestrator.orchestrator import Orchestrator
from stepstream.messaging.bus import Outgoing
from stepstream.messaging.envelope import Envelope


class ForgetfulBroker:
    """Like a memory-only broker that dies after acknowledging: the first ``forget``
    requests vanish, and with ``forget=None`` all of them do. ``sent`` holds every one."""

    def __init__(self, orchestrator: Orchestrator, *, forget: int | None = 0) -> None:
        self.orchestrator = orchestrator
        self.forget = forget
        self.sent: list[tuple[str, str | None, Envelope]] = []

    async def publish(self, topic: str, key: str | None, envelope: Envelope) -> None:
        self.sent.append((topic, key, envelope))
        if self.forget is None or len(self.sent) <= self.forget:
            return
        await self.orchestrator.handle_envelope(envelope)

    async def publish_raw(
        self, topic: str, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]
    ) -> None:
        raise AssertionError("the client sends envelopes")

    async def publish_batch(self, messages: Sequence[Outgoing]) -> None:
        raise AssertionError("the client sends envelopes")
