"""The Teams activity handler: learn the channel on install, run card actions and typed commands."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.schema import AdaptiveCardInvokeResponse, AdaptiveCardInvokeValue, ChannelAccount

from bot.chat import answers as reports
from bot.core import commands as c
from bot.core.catalogue import Words
from bot.core.crisis.views import ChecklistView
from bot.core.intents import CRISIS_COMMANDS, TEXT_COMMANDS
from bot.core.mentions import Actor, DomainError, NotFound
from bot.core.storms.spikes import SpikeAlertView
from bot.core.storms.views import DigestView, StormView
from bot.core.views import DraftView
from bot.teams import translate
from bot.teams.answer_form import with_reply
from bot.teams.checklist import render_checklist
from bot.teams.digest_render import render_digest
from bot.teams.escape import escape_markdown, safe_url
from bot.teams.ids import PLATFORM
from bot.teams.render import render_card, render_draft
from bot.teams.spike_render import render_spike
from bot.teams.storm_render import render_storm
from handlers.answering import AnswerForm
from handlers.bus import Bus
from handlers.cards import view_after
from handlers.context import Context
from handlers.digests import digest_view
from handlers.spikes import spike_after
from handlers.storms import current_storm

logger = logging.getLogger(__name__)

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
TEAM_KEY = "aadGroupId"  # in a learned channel's reference: the team's Entra group id, by which Graph knows the team


def _link(url: str, label: str) -> str:
    """A markdown link to a customer's post as the post has it, or just the label when it is no plain address."""
    target = safe_url(url)
    if target is None:
        return escape_markdown(label)
    return f"[{escape_markdown(label)}]({target.replace(')', '%29').replace('<', '%3C').replace('>', '%3E')})"


MARKDOWN = reports.Markup(bold=lambda text: f"**{text}**", escape=escape_markdown, link=_link)
# A private invoke answer may be shown as plain text: nothing that only markdown would make readable.
PLAIN = reports.Markup(bold=lambda text: text, escape=escape_markdown, link=lambda _url, label: escape_markdown(label))
_STORM_CARD_COMMANDS = (c.ClaimStorm, c.AnswerStorm, c.DismissStorm, c.StartStormCrisis)


class TeamsBot(ActivityHandler):
    """Translates activities to commands, dispatches them, and answers within Teams' deadlines."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._config = bus.ctx.config

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        """The bot was added to a team: remember the channel so cards can go there, and the team's Entra id."""
        activity = turn_context.activity
        if not any(m.id == activity.recipient.id for m in members_added):
            return
        data = activity.channel_data or {}
        channel = ((data.get("channel") or {}).get("id") or ((data.get("settings") or {}).get("selectedChannel")
                   or {}).get("id") or activity.conversation.id.split(";")[0])
        tenant = activity.conversation.tenant_id or (data.get("tenant") or {}).get("id") or ""
        reference = TurnContext.get_conversation_reference(activity).serialize()
        if team := _team_id(data):
            reference[TEAM_KEY] = team
        await self._bus.dispatch(c.LearnChannel(PLATFORM, tenant, channel, activity.conversation.name,
                                                activity.service_url, reference))
        logger.info("teams: installed in channel %s of tenant %s", channel, tenant)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        """An `Action.Submit` fallback click, or a typed command (`@Webcare queue`, `@Webcare crisis …`)."""
        activity = turn_context.activity
        raw = activity.serialize()
        sender = raw.get("from") or {}
        who, say = translate.actor(self._config, sender), translate.words(self._config, sender)
        try:
            if translate.is_card_action(raw) and (picked := translate.picked_reply(raw)) is not None:
                form: AnswerForm = await self._bus.dispatch(c.PrepareAnswer(picked[0], who))
                reply = form.reply(picked[1])  # an older client cannot show the card filled in: the text to copy
                text = f"**{escape_markdown(reply.label)}**{say('notice.copy_reply')}\n\n{escape_markdown(reply.text)}"
            elif translate.is_card_action(raw):
                command = translate.card_command(raw, who)
                shown = await self._bus.dispatch(command)
                if not isinstance(command, c.ShowStorm):  # a storm's Members answers with the list; clicks update cards
                    return
                text = reports.answer(shown, MARKDOWN, say)
            else:
                query = translate.typed_query(raw, who)
                text = help_text(say) if query is None else \
                    reports.answer(await self._bus.dispatch(query), MARKDOWN, say)
        except DomainError as exc:  # it may quote what was typed: shown as written, nothing in it live
            text = escape_markdown(exc.said(say))
        await turn_context.send_activity(MessageFactory.text(text))

    async def on_adaptive_card_invoke(self, turn_context: TurnContext,
                                      invoke_value: AdaptiveCardInvokeValue) -> AdaptiveCardInvokeResponse:
        """Decide at once and answer with the refreshed card; a refusal is shown on top of it."""
        raw = turn_context.activity.serialize()
        sender = raw.get("from") or {}
        who, say = translate.actor(self._config, sender), translate.words(self._config, sender)
        try:
            if (picked := translate.picked_reply(raw)) is not None:
                return await self._fill(*picked, who, say)
            command = translate.card_command(raw, who)
            if isinstance(command, c.ShowStorm):  # a storm's Members: the list goes to whoever asked, the card stays
                return _message(reports.answer(await self._bus.dispatch(command), PLAIN, say))
            notice, digest = None, translate.digest_of(raw)
            try:
                await self._bus.dispatch(command)
            except DomainError as exc:
                notice = exc.said(say)
            card = await self._refreshed(command, notice, digest, self._config.team.words)  # the card everyone sees
            if notice and isinstance(command, c.SubmitReply):  # refused (too long, say): the reply stays to fix
                card = with_reply(card, command.text, say)
        except DomainError as exc:  # e.g. the mention or draft is gone: say so instead of a card
            return _message(exc.said(say))
        except Exception:
            incident = uuid.uuid4().hex[:12]
            logger.exception("teams: card action failed, incident %s", incident)
            return _message(say("notice.apology", incident=incident))
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=card)

    async def _fill(self, mention_id: int, key: str, who: Actor, say: Words) -> AdaptiveCardInvokeResponse:
        """A saved reply picked on the Answer form: the card comes back (to this person) with it filled in."""
        command = c.PrepareAnswer(mention_id, who)
        try:
            form: AnswerForm = await self._bus.dispatch(command)
            picked = form.reply(key)
        except DomainError as exc:
            card = await self._refreshed(command, exc.said(say), None, say)
        else:  # shown to this person alone: the card and its Answer form in their language
            card = with_reply(await self._refreshed(command, None, None, say), picked.text, say, picked=picked)
        return AdaptiveCardInvokeResponse(status_code=200, type=CARD_TYPE, value=card)

    async def _refreshed(self, command: object, notice: str | None, digest: str | None,
                         say: Words) -> dict[str, Any]:
        """The clicked card as it is now: a digest line's click redraws the digest, not the mention's own card."""
        view = ((digest and await digest_view(self._bus.ctx, digest)) or await _storm_after(self._bus.ctx, command)
                or await spike_after(self._bus.ctx, command) or await view_after(self._bus.ctx, command))
        if isinstance(view, DigestView):
            card = render_digest(view, say)
        elif isinstance(view, StormView):
            card = render_storm(view, say)
        elif isinstance(view, SpikeAlertView):
            card = render_spike(view, say)
        elif isinstance(view, ChecklistView):
            card = render_checklist(view, say)
        elif isinstance(view, DraftView):
            card = render_draft(view, say)
        else:
            card = render_card(view, [self._config.department_view(key) for key in self._config.departments], say)
        if notice:
            warning = {"type": "TextBlock", "text": f"⚠ {escape_markdown(notice)}", "wrap": True, "color": "Attention",
                       "weight": "Bolder"}
            card = {**card, "body": [warning, *card.get("body", [])]}
        return card


async def _storm_after(ctx: Context, command: object) -> StormView | None:
    """What a clicked storm card shows after its command ran (None when the command is not about a storm)."""
    if not isinstance(command, _STORM_CARD_COMMANDS):
        return None
    view = await current_storm(ctx, command.storm_id)
    if view is None:
        raise NotFound("refusal.no_storm", storm=command.storm_id)
    return view


def help_text(say: Words) -> str:
    """What `@Webcare help` answers, in the reader's words."""
    return (say("command.help_teams", bot="**@Webcare**", commands=TEXT_COMMANDS) + "\n\n"
            + say("command.help_teams_crises", commands=escape_markdown(CRISIS_COMMANDS)))


def _team_id(channel_data: dict[str, Any]) -> str | None:
    """`channelData.team.aadGroupId` (the id Graph reads the team's channels by), if it is a well-formed id."""
    team = channel_data.get("team")
    group = team.get("aadGroupId") if isinstance(team, dict) else None
    try:
        return str(uuid.UUID(group)) if isinstance(group, str) else None
    except ValueError:
        return None


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):
    """botbuilder types `value` as an object; a message answer's value is a string (Universal Actions)."""

    _attribute_map = {**AdaptiveCardInvokeResponse._attribute_map, "value": {"key": "value", "type": "str"}}


def _message(text: str) -> AdaptiveCardInvokeResponse:
    """An invoke answer that shows a message instead of changing the card."""
    return _MessageInvokeResponse(status_code=200, type="application/vnd.microsoft.activity.message", value=text)
