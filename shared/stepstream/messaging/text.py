"""Free text from the wire (error names, causes) as every store can keep it.

PostgreSQL's text cannot hold a NUL character: one in a task's cause once failed the
orchestrator's append on every delivery. JSON carries it (``\\u0000``), so it is
replaced where such text comes in, with U+FFFD, the character that stands for one that
cannot be shown.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

NUL = "\x00"
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with every NUL character replaced by U+FFFD."""
    return text.replace(NUL, REPLACEMENT) if NUL in text else text


StorableText = Annotated[str, AfterValidator(storable)]
