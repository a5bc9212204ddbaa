"""`POST /api/messages`: size and JSON checks, Bot Framework JWT validation, then parsing and the turn."""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, ChannelAccount
from msrest.exceptions import DeserializationError

from bot.http.body import Unreadable, read_body
from bot.logs import excerpt
from bot.teams.bot import TeamsBot

logger = logging.getLogger(__name__)

MAX_ACTIVITY = 256 * 1024
_OBJECTS = ("from", "recipient", "conversation", "channelData", "relatesTo")
_LISTS_OF_OBJECTS = ("membersAdded", "membersRemoved", "entities", "attachments", "reactionsAdded",
                     "reactionsRemoved")


def _error(status: int, code: str, message: str, *, why: str | None = None) -> web.Response:
    """The JSON refusal, and one log line saying what was refused and why (never the body)."""
    logger.info("teams: refused %d %s: %s", status, code, excerpt(why or message))
    headers = {"Retry-After": "5"} if status == 503 else None
    return web.json_response({"error": code, "message": message}, status=status, headers=headers)


class MessagesRoute:
    """Runs one activity through the adapter without its stock `process` (which answers 500 to invokes)."""

    def __init__(self, adapter: CloudAdapter, bot: TeamsBot) -> None:
        self._adapter, self._bot = adapter, bot

    async def handle(self, request: web.Request) -> web.Response:
        """Authenticate, then parse and process one activity; an invoke's response is this request's answer."""
        try:
            body = await read_body(request, MAX_ACTIVITY)
        except Unreadable as exc:
            return _error(exc.status, exc.code, exc.message)
        if request.content_type != "application/json":
            return _error(415, "unsupported_media_type", "Send the activity as application/json.",
                          why=f"content type {request.content_type}")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _error(400, "invalid_json", "The body is not JSON.")
        try:  # the token is checked before the activity is parsed, from the two fields it is bound to
            authenticated = await self._adapter.bot_framework_authentication.authenticate_request(
                _addressing(payload), request.headers.get("Authorization"))
        except requests.RequestException:
            logger.warning("teams: cannot fetch Bot Framework signing keys; answering 503")
            return _error(503, "unavailable", "Cannot verify tokens right now; retry.")
        except Exception as exc:  # botbuilder raises PermissionError, jwt errors, IndexError, bare Exception
            return _error(401, "unauthorized", "Missing or invalid Bot Framework token.", why=type(exc).__name__)
        if problem := _shape_problem(payload) if isinstance(payload, dict) else "not a JSON object":
            return _error(400, "invalid_activity", "The body is not a Bot Framework activity.", why=problem)
        try:
            activity = Activity().deserialize(payload)
        except (DeserializationError, ValueError, TypeError, AttributeError, RecursionError) as exc:
            return _error(400, "invalid_activity", "The body is not a Bot Framework activity.",
                          why=f"unreadable activity ({type(exc).__name__})")
        invoke = await self._adapter.process_activity(authenticated, activity, self._bot.on_turn)
        if invoke is None:
            return web.Response(status=200)
        if invoke.body is None:
            return web.Response(status=invoke.status)
        return web.json_response(invoke.body, status=invoke.status)  # already serialised by the handler


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _addressing(payload: object) -> Activity:
    """What token validation reads of an activity (channel, service URL, recipient role), taken from the raw JSON
    without parsing the rest: fields of the wrong type count as absent, and the token check then fails."""
    fields = payload if isinstance(payload, dict) else {}
    recipient = fields.get("recipient") if isinstance(fields.get("recipient"), dict) else {}
    return Activity(channel_id=_text(fields.get("channelId")), service_url=_text(fields.get("serviceUrl")),
                    recipient=ChannelAccount(role=_text(recipient.get("role"))))


def _shape_problem(payload: dict[str, Any]) -> str | None:
    """Why an authenticated activity cannot be processed (None if it can be): the envelope botbuilder and the bot
    read without checking, so that a malformed one is refused here instead of failing inside the turn."""
    if not isinstance(payload.get("type"), str) or not payload["type"]:
        return "no activity type"
    for key in _OBJECTS:
        if payload.get(key) is not None and not isinstance(payload[key], dict):
            return f"{key} is not an object"
    for key in _LISTS_OF_OBJECTS:
        found = payload.get(key)
        if found is not None and not (isinstance(found, list) and all(isinstance(i, dict) for i in found)):
            return f"{key} is not a list of objects"
    if not isinstance((payload.get("conversation") or {}).get("id"), str):
        return "no conversation id"
    if payload["type"] == "invoke":
        value = payload.get("value")
        if not isinstance(value, dict) or (payload.get("name") == "adaptiveCard/action"
                                           and not isinstance(value.get("action"), dict)):
            return "an invoke without an action object"
    return None
