"""The kit for writing a service: register async handlers for command names, then run.

worker = Worker(name="book-shipment", settings=WorkerSettings())

@worker.handler("book-shipment")
async def book(cmd: CommandContext) -> dict[str, str]:
    return {"trackingNumber": await carrier.book(cmd.input, key=cmd.idempotency_key)}

await worker.run()
"""

from stepstream.worker.context import CommandContext
from stepstream.worker.execution import CommandHandler
from stepstream.worker.settings import WorkerSettings
from stepstream.worker.worker import Worker

__all__ = ["CommandContext", "CommandHandler", "Worker", "WorkerSettings"]
