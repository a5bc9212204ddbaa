"""The retention task `serve` runs: expire personal data as webcare.toml's [retention] says, now and then."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.logs import Outage
from handlers.context import Context
from handlers.privacy import apply_retention

logger = logging.getLogger(__name__)

RETENTION_SECONDS = 3600.0  # how often expired data is looked for (the first time at start-up)


async def keep_retention(ctx: Context, on_change: Callable[[], None], every: float = RETENTION_SECONDS) -> None:
    """Apply the retention periods forever; a database outage is logged once, when it starts and when it ends."""
    outage = Outage("database (retention)", logger, max_delay=every)
    while True:
        try:
            erased, cleared = await apply_retention(ctx)
        except Exception as exc:  # the database is away: back off, one line now and one when it is back
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.recovered()
        if erased or cleared:
            logger.info("retention: erased %d mentions, cleared %d raw payloads", erased, cleared)
        if erased:
            on_change()  # their cards are redrawn without the text
        await asyncio.sleep(every)


def retention_task(ctx: Context, on_change: Callable[[], None]) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs `keep_retention` while the app serves (nothing when no period is set)."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        if not ctx.config.retention.enabled:
            yield
            return
        task = asyncio.create_task(keep_retention(ctx, on_change), name="retention")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return run
