"""The access log: one line per HTTP request with its method, path, status and time — never a body or a query."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.logs import excerpt

logger = logging.getLogger("bot.access")  # the name operators filter on (docs/contract.md): kept when the module moved

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log `METHOD /path status ms` once the answer is decided (the path escaped and bounded)."""
    started = time.perf_counter()
    status = 500  # what aiohttp answers when a handler raises anything but an HTTP exception
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    except asyncio.CancelledError:
        status = 499  # the client went away and the server stopped the handler (nginx's name for it)
        raise
    finally:
        logger.info("%s %s %d %.1f ms", excerpt(request.method, 16), excerpt(request.rel_url.raw_path),
                    status, (time.perf_counter() - started) * 1000)
