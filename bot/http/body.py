"""Read a request body whole, within a size limit and a deadline; say why when it cannot be read."""

from __future__ import annotations

import asyncio

from aiohttp import web

BODY_TIMEOUT_SECONDS = 10.0  # a webhook body of at most 256 KiB arrives in far less; a stalled client is let go


class Unreadable(Exception):
    """The body was not read: too large, too slow, or the client went away before sending it all."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> web.Response:
        """The JSON answer for the client (if it is still there to read it)."""
        return web.json_response({"error": self.code, "message": self.message}, status=self.status)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole body, refused as soon as it is longer than `limit` bytes or slower than BODY_TIMEOUT_SECONDS."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    try:
        async with asyncio.timeout(BODY_TIMEOUT_SECONDS):
            return await _read(request, limit)
    except TimeoutError:
        raise Unreadable(408, "body_timeout",
                         f"The body did not arrive within {BODY_TIMEOUT_SECONDS:g} s.") from None
    except (ConnectionError, asyncio.IncompleteReadError):
        raise Unreadable(400, "body_incomplete", "The connection closed before the body was complete.") from None


async def _read(request: web.Request, limit: int) -> bytes:
    if request.content_length == 0:
        return b""
    if request.content_length is not None:
        # The parser ends the body after Content-Length bytes, so one exact read takes all of it at once.
        return await request.content.readexactly(request.content_length)
    received = bytearray()
    async for chunk in request.content.iter_any():
        received += chunk
        if len(received) > limit:
            raise _too_large(limit)
    return bytes(received)


def _too_large(limit: int) -> Unreadable:
    return Unreadable(413, "payload_too_large", f"The body is larger than {limit // 1024} KiB.")
