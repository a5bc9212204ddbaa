"""The Slack edge assembled: Bolt app, Web API client, listeners, outbox senders, HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.bus import Bus
from bot.http_body import read_limited
from bot.metrics import Metrics
from bot.settings import Settings
from bot.slack import calls, listeners
from bot.slack.messenger import SlackMessenger

logger = logging.getLogger(__name__)

MAX_SLACK_BODY = 256 * 1024


class SlackEdge:
    """Everything Slack-specific the composition root needs."""

    def __init__(self, settings: Settings, bus: Bus, metrics: Metrics) -> None:
        assert settings.slack_bot_token is not None
        self._settings = settings
        self.client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(),
                                     base_url=settings.slack_api_url, retry_handlers=[])
        signing = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        self.socket_mode = settings.slack_app_token is not None
        self.app = AsyncApp(client=self.client, signing_secret=signing,
                            request_verification_enabled=not self.socket_mode, process_before_response=False)
        listeners.register(self.app, bus)
        self.messenger = (SlackMessenger(self.client, bus.ctx, settings.slack_triage_channel, metrics)
                          if settings.slack_triage_channel else None)

    async def handle(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: one Request URL for events, interactivity and slash commands."""
        if request.headers.get("X-Slack-Retry-Num"):
            # Slack re-sends an event it thinks we missed; the first delivery was (or is being)
            # handled, so answering again would do its effect twice.
            return web.Response(status=200, headers={"X-Slack-No-Retry": "1"})
        raw = await read_limited(request, MAX_SLACK_BODY)
        if raw is None:
            return web.json_response({"error": "payload_too_large"}, status=413)
        bolt_request = AsyncBoltRequest(body=raw.decode("utf-8", errors="replace"), query=request.query_string,
                                        headers=dict(request.headers))
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Keep the Socket Mode connection open while the server runs (no-op in HTTP mode)."""
        if not self.socket_mode:
            yield
            return
        assert self._settings.slack_app_token is not None
        app_token = self._settings.slack_app_token.get_secret_value()
        handler = AsyncSocketModeHandler(self.app, app_token)
        try:
            # Ask for the first URL ourselves: the SDK would retry a refused app token forever, and the
            # server would hang at start without saying why.
            try:
                opened = await calls.call(self.client.apps_connections_open, app_token=app_token)
            except SlackApiError as exc:
                logger.error("slack: apps.connections.open failed (%s); Socket Mode needs SLACK_APP_TOKEN to be "
                             "an app-level token (xapp-…) with the connections:write scope", exc.response.get("error"))
                raise
            handler.client.wss_uri = opened["url"]
            await handler.connect_async()
            logger.info("slack: connected over Socket Mode")
            yield
        finally:
            await handler.close_async()
