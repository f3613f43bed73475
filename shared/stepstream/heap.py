"""The garbage collector, set for a long-running process that handles many messages.

CPython's cyclic collector runs a young-generation pass every 700 net allocations. The
orchestrator allocates thousands of short-lived objects per message (events, models,
JSON), nearly all freed by reference counting anyway, and under load it spent about a
tenth of its CPU in the collector (py-spy, benchmarks/pipeline.py). A pass every
50,000 allocations still bounds what cycles can hold, and what start-up made (modules,
definitions, clients) is frozen out of every pass.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 50_000


def tune_for_service() -> None:
    """Freeze what exists now and collect the young generation less often; call once."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
