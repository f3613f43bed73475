"""Container health check: the process's own /healthz answers 200.

A process is healthy when it reaches Kafka, its consumer groups are joined and its
databases answer (see stepstream.observability); the broker alone answering says
nothing about the process. The port is STEPSTREAM_HEALTH_PORT's, or the one given as
the only argument (the simulators serve /healthz on their own API port).
"""

import os
import sys
import urllib.error
import urllib.request

port = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("STEPSTREAM_HEALTH_PORT")
if not port:
    print("STEPSTREAM_HEALTH_PORT is not set: the process serves no /healthz", file=sys.stderr)
    sys.exit(1)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as answer:
        sys.exit(0 if answer.status == 200 else 1)
except (OSError, urllib.error.URLError) as exc:
    print(f"/healthz: {exc}", file=sys.stderr)
    sys.exit(1)
