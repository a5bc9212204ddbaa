"""Read a request body whole, but never more than a limit (one `read()` returns only what has arrived)."""

from __future__ import annotations

import asyncio

from aiohttp import web


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `limit` bytes."""
    length = request.content_length
    if length is not None:
        if length > limit:
            return None
        # The parser ends the body after Content-Length bytes, so one exact read takes all of it at once.
        try:
            return await request.content.readexactly(length)
        except asyncio.IncompleteReadError as exc:  # the stream ended early: what came is all there is
            return exc.partial
    received = bytearray()
    async for chunk in request.content.iter_any():
        received += chunk
        if len(received) > limit:
            return None
    return bytes(received)
