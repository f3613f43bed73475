"""What validation reports: one error per problem, each with where and what."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DefinitionError:
    """One problem in a state machine definition.

    ``location`` is a JSONPath into the definition, ``state`` the name of the innermost
    state the problem sits in (None for the machine's own fields) and ``message`` says
    what is wrong in plain words.
    """

    location: str
    state: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: {self.message}"
        return where if self.state is None else f"{where} (state {self.state!r})"


class InvalidDefinition(ValueError):
    """A definition that cannot run; ``errors`` holds every problem found, not just the first."""

    def __init__(self, errors: Iterable[DefinitionError]) -> None:
        self.errors: tuple[DefinitionError, ...] = tuple(errors)
        count = len(self.errors)
        heading = f"invalid state machine definition ({count} error{'s' if count != 1 else ''})"
        super().__init__("\n".join([heading, *(f"  {error}" for error in self.errors)]))
