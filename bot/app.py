"""create_app(settings): the composition root, the only module that wires the core to the chat edges."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from aiohttp import web

from bot.config import Config, load_config
from bot.http.access import access_log
from bot.http.signing import SignatureVerifier
from bot.ingest.batcher import IngestBatcher
from bot.ingest.route import IngestRoute
from bot.logs import Outage, excerpt, install_redaction
from bot.metrics import Metrics
from bot.outbox.fanout import Fanout
from bot.outbox.relay import Relay, Sender
from bot.replies.base import ReplyConnector
from bot.settings import Settings
from bot.storage.database import Database
from bot.storage.errors import DRIVER_ERRORS, UNREACHABLE
from bot.storage.models import utcnow
from handlers.bus import Bus
from handlers.context import Context
from handlers.crisis import remind_overdue
from handlers.daily import post_daily_summary
from handlers.delivery import ReplyDelivery
from handlers.retention import retention_task
from handlers.sla import remind_sla
from handlers.spikes import check_spikes
from handlers.storms import StormBatches, forget_old_keys

logger = logging.getLogger(__name__)

CONTEXT = web.AppKey("context", Context)
RELAY = web.AppKey("relay", Relay)
REMINDER_SECONDS = 30.0  # how often overdue crisis steps are looked for
READY_TIMEOUT_SECONDS = 2.0


@web.middleware
async def errors_middleware(request: web.Request, handler: Callable) -> web.StreamResponse:  # type: ignore[type-arg]
    """Unexpected failures become a JSON answer with an incident id; database trouble becomes 503."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (*DRIVER_ERRORS, *UNREACHABLE) as exc:
        if isinstance(exc, ConnectionError) and (request.transport is None or request.transport.is_closing()):
            logger.info("http: %s %s: the client went away", request.method, excerpt(request.path))
            return web.Response(status=499)  # nobody reads it; the access log shows why the request ended
        incident = uuid.uuid4().hex[:12]
        logger.error("http: %s %s: storage unavailable (%s), incident %s", request.method, excerpt(request.path),
                     type(exc).__name__, incident)
        return web.json_response({"error": "unavailable", "message": "Storage is busy or unreachable; retry.",
                                  "incident": incident}, status=503, headers={"Retry-After": "2"})
    except Exception:
        incident = uuid.uuid4().hex[:12]
        logger.exception("http: %s %s failed, incident %s", request.method, excerpt(request.path), incident)
        return web.json_response({"error": "internal", "message": "Something went wrong on our side.",
                                  "incident": incident}, status=500)


def _connectors(settings: Settings) -> dict[str, ReplyConnector]:
    from bot.replies.mastodon import MastodonConnector
    from bot.replies.webhook import WebhookConnector

    found: dict[str, ReplyConnector] = {}
    if settings.reply_webhook_url and settings.reply_webhook_secret:
        found["webhook"] = WebhookConnector(settings.reply_webhook_url,
                                            settings.reply_webhook_secret.get_secret_value())
    if settings.mastodon_api_base_url and settings.mastodon_access_token:
        found["mastodon"] = MastodonConnector(settings.mastodon_api_base_url,
                                              settings.mastodon_access_token.get_secret_value())
    return found


def create_app(settings: Settings, *, config: Config | None = None,
               clock: Callable[[], datetime] = utcnow, relay_poll_seconds: float = 0.25,
               reminder_seconds: float = REMINDER_SECONDS) -> web.Application:
    """Build the whole server: routes, the outbox relay, and each configured chat edge."""
    install_redaction(settings.secret_values())
    if problem := settings.teams_problem():
        raise ValueError(f"Teams is half-configured: {problem}")
    config = config if config is not None else load_config(settings.resolved_config_path)
    db = Database(settings.database_url)
    metrics = Metrics()
    slack_ready = settings.slack_enabled and settings.slack_triage_channel is not None
    platforms = ("slack",) if slack_ready else ()
    fanout = Fanout(platforms=platforms + (("teams",) if settings.teams_enabled else ()))
    connectors = _connectors(settings)
    ctx = Context(db=db, config=config, fanout=fanout, clock=clock, metrics=metrics,
                  playbooks_dir=settings.playbooks_dir, connectors=frozenset(connectors))
    # The chat edges add their senders below; the relay looks kinds up in this mapping as jobs come due.
    senders: dict[str, Sender] = {"reply": ReplyDelivery(ctx, connectors), "storm_batch": StormBatches(ctx)}
    relay = Relay(db, senders, metrics, fanout=fanout, clock=clock, poll_seconds=relay_poll_seconds)
    bus = Bus(ctx, on_change=relay.wake)

    app = web.Application(middlewares=[access_log, errors_middleware], client_max_size=1024 * 1024)
    app[CONTEXT] = ctx
    app[RELAY] = relay
    batcher = IngestBatcher(ctx, on_stored=relay.wake)
    ingest = IngestRoute(batcher, SignatureVerifier(settings.ingest_secrets))
    app.router.add_post("/ingest/v1/mentions", ingest.handle)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_route)

    slack = None
    if settings.slack_enabled:
        from bot.slack.edge import SlackEdge

        slack = SlackEdge(settings, bus, metrics)
        if slack.senders is not None:
            senders.update(slack.senders)
        else:
            logger.warning("slack: SLACK_TRIAGE_CHANNEL is not set, so no cards will be posted")
        if not slack.socket_mode:
            app.router.add_post("/slack/events", slack.handle)
    if settings.teams_enabled:
        from bot.teams.edge import TeamsEdge

        teams = TeamsEdge(settings, bus, metrics)
        senders.update(teams.senders)
        app.router.add_post("/api/messages", teams.route.handle)
        if not settings.microsoft_app_id:
            logger.warning("teams: WEBCARE_DEV=1 and no MICROSOFT_APP_ID: activities are NOT authenticated")
    if not settings.slack_enabled and not settings.teams_enabled:
        logger.info("no chat platform is configured (set SLACK_BOT_TOKEN or MICROSOFT_APP_ID); "
                    "mentions are stored but not posted")
    if not settings.ingest_secrets:
        logger.warning("WEBCARE_INGEST_SECRET is not set: POST /ingest/v1/mentions answers 503")

    async def run_relay(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(relay.run(), name="outbox-relay")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def run_batcher(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(batcher.run(), name="ingest-writer")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def run_reminders(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(_remind_forever(ctx, relay, reminder_seconds), name="crisis-reminders")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def close_database(app: web.Application) -> AsyncIterator[None]:
        yield
        await db.dispose()

    async def run_slack(app: web.Application) -> AsyncIterator[None]:
        assert slack is not None
        async with slack.running():
            yield

    app.cleanup_ctx.append(close_database)
    app.cleanup_ctx.append(run_relay)
    app.cleanup_ctx.append(run_batcher)
    app.cleanup_ctx.append(run_reminders)
    app.cleanup_ctx.append(retention_task(ctx, on_change=relay.wake))
    if slack is not None:
        app.cleanup_ctx.append(run_slack)
    return app


async def _remind_forever(ctx: Context, relay: Relay, every: float) -> None:
    """Queue reminders for overdue crisis steps and SLA clocks, alerts for spiking topics and the leads' daily
    summary, now and then (each once); drop the grouping keys of mentions older than the group window."""
    outage = Outage("crisis reminders: database", logger, max_delay=every)
    await asyncio.sleep(every)  # one period after start: the server is up first, and a test's app (hourly) runs none
    while True:
        try:
            if await remind_overdue(ctx) + await remind_sla(ctx) + await check_spikes(ctx) + \
                    await post_daily_summary(ctx):
                relay.wake()
            await forget_old_keys(ctx)
        except Exception as exc:  # the database is away: one line when it starts, one when it ends
            await asyncio.sleep(outage.failed(exc))
            continue
        outage.recovered()
        await asyncio.sleep(every)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers, within READY_TIMEOUT_SECONDS."""
    try:
        await request.app[CONTEXT].db.ping(timeout=READY_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure means not ready; say which kind, never the details
        return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
    return web.json_response({"status": "ok", "database": "ok"})


async def metrics_route(request: web.Request) -> web.Response:
    """Prometheus text format, without asking the database (the relay keeps the queue gauges current)."""
    ctx = request.app[CONTEXT]
    return web.Response(body=ctx.metrics.render(), content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})
