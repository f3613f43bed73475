"""Topic names, fixed once: ``<prefix>.<purpose>[.<name>]``.

Every process derives its topic names from one ``Topics`` built with the deployment's
prefix, so two deployments can share a broker without seeing each other's messages.
Commands and replies are keyed by execution id, so everything about one execution stays
in one partition and in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PREFIX = "stepstream"

# Kafka accepts these characters in topic names, up to 249 of them.
_LEGAL = re.compile(r"[A-Za-z0-9._-]+")
_MAX_TOPIC_LENGTH = 249


def _check_part(what: str, value: str) -> None:
    if not value or not _LEGAL.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a valid topic name part: use letters, digits, '.', '_' or '-'"
        )


@dataclass(frozen=True)
class Topics:
    """The naming convention for every topic stepstream uses."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        _check_part("topic prefix", self.prefix)

    def _name(self, *parts: str) -> str:
        name = ".".join((self.prefix, *parts))
        if len(name) > _MAX_TOPIC_LENGTH:
            raise ValueError(f"topic name {name!r} is longer than {_MAX_TOPIC_LENGTH} characters")
        return name

    def commands(self, name: str) -> str:
        """Where the service called ``name`` receives its task commands."""
        _check_part("service name", name)
        return self._name("commands", name)

    def named(self, name: str) -> str:
        """A topic of the deployment's own naming (e.g. one a resource binding names)."""
        _check_part("topic name", name)
        return self._name(name)

    def replies(self) -> str:
        """Where services answer task commands (success, failure, heartbeat)."""
        return self._name("replies")

    def requests(self) -> str:
        """The orchestrator's inbox: start and stop requests, task-token callbacks."""
        return self._name("requests")

    def dead_letter(self) -> str:
        """Where messages that cannot be decoded or handled are set aside."""
        return self._name("dead-letter")

    def human_review(self) -> str:
        """Review tickets waiting for an operator."""
        return self._name("human-review")

    def history(self) -> str:
        """History events of every execution, for readers outside the orchestrator."""
        return self._name("history")

    def receipts(self) -> str:
        """Receipt events of fulfilled orders."""
        return self._name("receipts")

    def fixed(self) -> tuple[str, ...]:
        """Every topic whose name does not depend on a service name."""
        return (
            self.replies(),
            self.requests(),
            self.dead_letter(),
            self.human_review(),
            self.history(),
            self.receipts(),
        )
