"""Microsoft Graph, read only: find the bot's own post in a team channel (app-only token, resource-specific consent)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import msal
import requests

from bot.chat.retry import parse_retry_after

logger = logging.getLogger(__name__)

LOGIN_URL = "https://login.microsoftonline.com"
SCOPE = "https://graph.microsoft.com/.default"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
PAGE_SIZE = 50  # the most channel messages Graph returns per page
MAX_PAGES = 40
TIMEOUT = aiohttp.ClientTimeout(total=20)


class GraphUnavailable(Exception):
    """Graph cannot say whether a post exists (not configured, no consent, refused); the message is safe to log."""


class GraphBusy(Exception):
    """Graph (or its login) is throttled, failing or unreachable for now: ask again later."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def mark(card: dict[str, Any], marker: str) -> dict[str, Any]:
    """The card with a hidden element whose id is `marker`, so Graph's copy of the post says which subject it is."""
    hidden = {"type": "TextBlock", "id": marker, "text": " ", "isVisible": False}
    return {**card, "body": [*card.get("body", []), hidden]}


def _ids(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("id"), str):
            yield node["id"]
        for value in node.values():
            yield from _ids(value)
    elif isinstance(node, list):
        for value in node:
            yield from _ids(value)


def carries(message: dict[str, Any], marker: str, app_id: str | None) -> bool:
    """Whether a Graph chatMessage is a live post of this bot with a card marked `marker`."""
    if message.get("deletedDateTime"):
        return False
    sender = ((message.get("from") or {}).get("application") or {}).get("id")
    if app_id and sender != app_id:
        return False
    for attachment in message.get("attachments") or []:
        if attachment.get("contentType") != CARD_TYPE or not isinstance(attachment.get("content"), str):
            continue
        try:
            card = json.loads(attachment["content"])
        except ValueError:
            continue
        if marker in _ids(card):
            return True
    return False


class ChannelPosts:
    """Reads a team channel's recent messages through Graph's delta query, as the bot's own app (client credentials)."""

    def __init__(self, app_id: str, password: str, graph_url: str, login_url: str | None = None) -> None:
        self._app_id, self._password = app_id, password
        self._graph = graph_url.rstrip("/") + "/"
        # The Bot Framework's login override names a full authority; Graph needs the team's tenant on the same host.
        parts = urlsplit(login_url) if login_url else None
        self._login = f"{parts.scheme}://{parts.netloc}" if parts and parts.netloc else LOGIN_URL
        self._apps: dict[str, msal.ConfidentialClientApplication] = {}

    def __repr__(self) -> str:
        return f"ChannelPosts(app_id={self._app_id!r}, graph={self._graph!r})"

    async def find(self, tenant: str, team: str, channel: str, marker: str, since: datetime, *,
                   root: str | None = None) -> str | None:
        """The id of the bot's message marked `marker` and changed after `since`: a channel post, or a reply to `root`.

        Raises GraphUnavailable when Graph cannot tell, GraphBusy when it may tell later.
        """
        token = await self._token(tenant)
        where = f"teams/{quote(team, safe='')}/channels/{quote(channel, safe=':@')}"
        url: str | None = f"{self._graph}{where}/messages/delta"
        stamp = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        params: dict[str, str] | None = {"$filter": f"lastModifiedDateTime gt {stamp}", "$expand": "replies",
                                         "$top": str(PAGE_SIZE)}
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            for _ in range(MAX_PAGES):
                if url is None:
                    return None
                page = await self._get(http, url, params, token)
                for message in page.get("value") or []:
                    found = self._match(message, marker, root)
                    if found is not None:
                        return found
                url, params = page.get("@odata.nextLink"), None  # the link carries the query
        logger.warning("teams: gave up looking for %s after %d pages of channel messages", marker, MAX_PAGES)
        return None

    def _match(self, message: dict[str, Any], marker: str, root: str | None) -> str | None:
        if root is None:
            return str(message["id"]) if carries(message, marker, self._app_id) else None
        for reply in message.get("replies") or []:
            if str(reply.get("replyToId")) == root and carries(reply, marker, self._app_id):
                return str(reply["id"])
        return None

    async def _get(self, http: aiohttp.ClientSession, url: str, params: dict[str, str] | None,
                   token: str) -> dict[str, Any]:
        try:
            async with http.get(url, params=params, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status == 200:
                    return await response.json()
                code = ((await response.json(content_type=None)) or {}).get("error", {}).get("code", "")
                if response.status == 429 or response.status >= 500:
                    asked = parse_retry_after(response.headers.get("Retry-After"))
                    raise GraphBusy(f"Graph {response.status} {code}".strip(), asked)
                raise GraphUnavailable(f"Graph answered {response.status} {code}".strip())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise GraphBusy(f"Graph unreachable ({type(exc).__name__})") from None

    async def _token(self, tenant: str) -> str:
        if not tenant:
            raise GraphUnavailable("the team's tenant is unknown (set TEAMS_TENANT_ID)")
        app = self._apps.get(tenant)
        if app is None:
            app = self._apps[tenant] = msal.ConfidentialClientApplication(
                self._app_id, client_credential=self._password, authority=f"{self._login}/{tenant}",
                instance_discovery=False, timeout=10)
        try:
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[SCOPE])
        except requests.RequestException as exc:
            raise GraphBusy(f"login unreachable ({type(exc).__name__})") from None
        except ValueError as exc:  # MSAL could not read the authority
            self._apps.pop(tenant, None)
            raise GraphUnavailable(f"login refused the authority ({exc})") from None
        if "access_token" not in result:
            raise GraphUnavailable(f"no Graph token: {result.get('error', 'unknown error')}")
        return str(result["access_token"])
