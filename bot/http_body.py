"""Read a request body whole, but never more than a limit (one `read()` returns only what has arrived)."""

from __future__ import annotations

from aiohttp import web


async def read_limited(request: web.Request, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `limit` bytes."""
    if request.content_length is not None and request.content_length > limit:
        return None
    received = bytearray()
    async for chunk in request.content.iter_any():
        received += chunk
        if len(received) > limit:
            return None
    return bytes(received)
