"""A stand-in for a stack's process: prints its environment as one JSON line, writes a
file in the data folder as a service would, and waits to be stopped."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

if __name__ == "__main__":
    print(json.dumps(dict(os.environ)), flush=True)
    folder = Path(os.environ["STEPSTREAM_DATA_DIR"])
    (folder / f"written-by-{os.getpid()}.txt").write_text("a service's data")
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
