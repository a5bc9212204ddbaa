"""`POST /ingest/v1/mentions`: size limit, signature, schema, then one transaction; never a 500 for bad input."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.core.incoming import SchemaError, parse_event
from bot.http.body import Unreadable, read_body
from bot.http.signing import SignatureError, SignatureVerifier
from bot.ingest.batcher import IngestBatcher, Overloaded
from bot.logs import excerpt
from bot.storage.json_text import dumps
from handlers.ingest import Delivery

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
JSON_TYPES = ("application/json",)
WRITE_DEADLINE_SECONDS = 3.0  # a delivery not committed by then is answered 503; the sender retries it
# (senders wait 10–15 s for an answer; a busy machine's first write on a new connection can take over a second)


def _error(status: int, code: str, message: str, *, why: str | None = None, **extra: object) -> web.Response:
    """The JSON refusal, and one log line saying what was refused and why (never the body)."""
    logger.info("ingest: refused %d %s: %s", status, code, excerpt(why or message))
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return web.json_response({"error": code, "message": message, **extra}, status=status, headers=headers)


class IngestRoute:
    """The signed mention ingest endpoint; deliveries are written by the group-commit batcher."""

    def __init__(self, batcher: IngestBatcher, verifier: SignatureVerifier) -> None:
        self._batcher, self._verifier = batcher, verifier

    async def handle(self, request: web.Request) -> web.Response:
        """Verify, validate and store one delivery (a single event or a batch)."""
        if not self._verifier.configured:
            return _error(503, "ingest_disabled", "Ingest is off: set WEBCARE_INGEST_SECRET to accept mentions.")
        try:
            body = await read_body(request, MAX_BODY)
        except Unreadable as exc:
            return _error(exc.status, exc.code, exc.message)
        try:
            delivery_id = self._verifier.verify(body, request.headers)
        except SignatureError as exc:
            return _error(401, "invalid_signature", f"Signature check failed: {exc}.")
        if request.content_type not in JSON_TYPES:
            return _error(415, "unsupported_media_type", "Send the event as application/json.",
                          why=f"content type {request.content_type}")
        try:
            items = parse_event(body)
        except SchemaError as exc:
            paths = ", ".join(sorted({str(e["path"]) for e in exc.errors}))
            return _error(400, "invalid_event", "The event does not match the mention schema.",
                          why=f"schema errors at {paths or 'the body'}", errors=exc.errors)
        try:
            results = await self._batcher.submit(Delivery(items, delivery_id), wait=WRITE_DEADLINE_SECONDS)
        except Overloaded as exc:
            return _error(503, "overloaded", "Too many deliveries at once; retry shortly.", why=str(exc))
        return web.json_response({"mentions": [r.as_json() for r in results]}, status=202, dumps=dumps)
