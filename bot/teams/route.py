"""`POST /api/messages`: size and JSON checks, Bot Framework JWT validation, then the turn; invokes answered here."""

from __future__ import annotations

import json
import logging

import requests
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from bot.http_body import read_limited
from bot.teams.bot import TeamsBot

logger = logging.getLogger(__name__)

MAX_ACTIVITY = 256 * 1024


def _error(status: int, code: str, message: str) -> web.Response:
    headers = {"Retry-After": "5"} if status == 503 else None
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


class MessagesRoute:
    """Runs one activity through the adapter without its stock `process` (which answers 500 to invokes)."""

    def __init__(self, adapter: CloudAdapter, bot: TeamsBot) -> None:
        self._adapter, self._bot = adapter, bot

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate and process one activity; an invoke's response is this request's answer."""
        body = await read_limited(request, MAX_ACTIVITY)
        if body is None:
            return _error(413, "payload_too_large", f"The activity is larger than {MAX_ACTIVITY // 1024} KiB.")
        if request.content_type != "application/json":
            return _error(415, "unsupported_media_type", "Send the activity as application/json.")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _error(400, "invalid_json", "The body is not JSON.")
        activity = Activity().deserialize(payload) if isinstance(payload, dict) else Activity()
        if not activity.type:
            return _error(400, "invalid_activity", "The body is not a Bot Framework activity.")
        try:
            authenticated = await self._adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization"))
        except requests.RequestException:
            logger.warning("teams: cannot fetch Bot Framework signing keys; answering 503")
            return _error(503, "unavailable", "Cannot verify tokens right now; retry.")
        except Exception as exc:  # botbuilder raises PermissionError, jwt errors, IndexError, bare Exception
            logger.info("teams: refused an activity: %s", type(exc).__name__)
            return _error(401, "unauthorized", "Missing or invalid Bot Framework token.")
        invoke = await self._adapter.process_activity(authenticated, activity, self._bot.on_turn)
        if invoke is None:
            return web.Response(status=200)
        if invoke.body is None:
            return web.Response(status=invoke.status)
        return web.json_response(invoke.body, status=invoke.status)  # already serialised by the handler
