"""A desk process that dies (os._exit, as under kill -9) while sending a decision:
``python -m tests.desk.dies_while_deciding DATA_DIR TICKET_ID before|after``."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from services.review_desk.app import open_tickets
from services.review_desk.desk import ReviewDesk
from services.review_desk.settings import ReviewDeskSettings
from stepstream.api.connect import connect


async def main(folder: str, ticket_id: str, when: str) -> None:
    database = await open_tickets(ReviewDeskSettings(data_dir=folder))
    async with connect(folder) as client:

        class DiesWhileSending:
            async def describe_execution(self, arn: str) -> dict[str, Any]:
                return await client.describe_execution(arn)

            async def get_execution_history(
                self, arn: str, *, reverse: bool = False
            ) -> dict[str, Any]:
                return await client.get_execution_history(arn, reverse=reverse)

            async def send_task_success(self, token: str, output: str) -> dict[str, Any]:
                if when == "after":
                    await client.send_task_success(token, output)
                os._exit(9)

        desk = ReviewDesk(database=database, executions=DiesWhileSending())
        await desk.resolve(
            ticket_id,
            decision="retry",
            note="new address",
            operator="otto",
            edits={"address.line1": "2 New Street"},
        )


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
