"""The Teams edge assembled: adapter (JWT validation), activity handler, route, outbox senders."""

from __future__ import annotations

import logging
import uuid

from botbuilder.core import MessageFactory, TurnContext

from bot.metrics import Metrics
from bot.outbox.relay import Sender
from bot.settings import Settings
from bot.teams import translate
from bot.teams.adapter import create_adapter
from bot.teams.bot import TeamsBot
from bot.teams.crisis_senders import CrisisSenders
from bot.teams.daily_senders import DailySenders
from bot.teams.digest_senders import DigestSenders
from bot.teams.poster import TeamsPoster
from bot.teams.route import MessagesRoute
from bot.teams.senders import MentionSenders
from bot.teams.sla_senders import ReminderSenders
from bot.teams.spike_senders import SpikeSenders
from bot.teams.storm_senders import StormSenders
from handlers.bus import Bus

logger = logging.getLogger(__name__)


class TeamsEdge:
    """Everything Teams-specific the composition root needs."""

    def __init__(self, settings: Settings, bus: Bus, metrics: Metrics) -> None:
        self.adapter = create_adapter(settings)
        self._config = bus.ctx.config
        self.adapter.on_turn_error = self._on_turn_error
        self.route = MessagesRoute(self.adapter, TeamsBot(bus))
        poster = TeamsPoster(self.adapter, settings, bus.ctx)
        self.senders: dict[str, Sender] = {**MentionSenders(poster, bus.ctx, metrics).senders(),
                                           **CrisisSenders(poster, bus.ctx).senders(),
                                           **SpikeSenders(poster, bus.ctx).senders(),
                                           **StormSenders(poster, bus.ctx).senders(),
                                           **DigestSenders(poster, bus.ctx).senders(),
                                           **DailySenders(poster, bus.ctx).senders(),
                                           **ReminderSenders(poster, bus.ctx).senders()}

    async def _on_turn_error(self, turn_context: TurnContext, error: Exception) -> None:
        """Unknown errors: logged with an incident id, and a plain apology in the conversation (in the words of
        whoever it answers)."""
        incident = uuid.uuid4().hex[:12]
        logger.error("teams: unhandled %s, incident %s", type(error).__name__, incident,
                     exc_info=(type(error), error, error.__traceback__))
        try:
            sender = turn_context.activity.serialize().get("from") or {}
            say = translate.words(self._config, sender)
            await turn_context.send_activity(MessageFactory.text(say("notice.apology", incident=incident)))
        except Exception:  # the apology is best effort; the incident is logged
            logger.warning("teams: could not deliver the apology for incident %s", incident)
