"""Slack listeners: acknowledge at once, translate, dispatch, and answer refusals where the user is looking."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import answers as reports
from bot.core import commands as c
from bot.core.access import Access
from bot.core.catalogue import Words
from bot.core.crisis.views import ChecklistView, PlaybookCatalogue
from bot.core.mentions import AlreadyClaimed, DomainError
from bot.core.replies import ReplyOption
from bot.core.storms.views import StormMembers
from bot.slack import calls, translate
from bot.slack.escape import escape_mrkdwn, link, safe_url
from bot.slack.ids import PLATFORM, Action, Block
from bot.slack.modals import (
    answer_modal,
    answer_refused_modal,
    block_id_in,
    crisis_skip_modal,
    dismiss_modal,
    escalate_modal,
    reply_revision,
    request_changes_modal,
    storm_answer_modal,
    storm_crisis_modal,
    storm_dismiss_modal,
)
from bot.slack.render import mention
from bot.slack.storm_render import render_member_list
from handlers.access import require_access
from handlers.answering import AnswerForm
from handlers.bus import Bus

logger = logging.getLogger(__name__)


def _link(url: str, label: str) -> str:
    """A link to a customer's post as the post has it, or just the label when Slack could not link it."""
    target = safe_url(url)
    return link(target, label) if target else escape_mrkdwn(label)


MRKDWN = reports.Markup(bold=lambda text: f"*{text}*", escape=escape_mrkdwn, link=_link)


async def _tell(client: AsyncWebClient, body: dict[str, Any], text: str) -> None:
    """Say something only the clicking user sees, as plain text (nothing in it can be live markup)."""
    await _ephemeral(client, body, text, {"type": "plain_text", "text": text[:3000], "emoji": True})


async def _refuse(client: AsyncWebClient, body: dict[str, Any], refusal: DomainError, say: Words) -> None:
    """Tell the user why not, in their words; a lost claim race names the winner as a Slack mention (@x)."""
    if isinstance(refusal, AlreadyClaimed) and refusal.by.chat_id(PLATFORM):
        text = say("refusal.already_claimed", person=mention(refusal.by))
        await _ephemeral(client, body, text, {"type": "mrkdwn", "text": text, "verbatim": True})
    else:
        await _tell(client, body, refusal.said(say))


async def _ephemeral(client: AsyncWebClient, body: dict[str, Any], fallback: str, *texts: dict[str, Any]) -> None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    user = (body.get("user") or {}).get("id")
    if channel and user:
        await calls.call(client.chat_postEphemeral, channel=channel, user=user, text=fallback,
                         blocks=[{"type": "section", "text": text} for text in texts])


def _answer_view(form: AnswerForm, say: Words, filled: ReplyOption | None = None, revision: int = 0) -> dict[str, Any]:
    """The Answer dialog for a prepared form, its reply filled with a picked saved reply in a later revision."""
    return answer_modal(form.mention_id, say, needs_approval=form.needs_approval, manual=form.manual,
                        approvers=list(form.approvers), templates=form.templates, crisis=form.crisis,
                        network=form.network, connector=form.connector, replies=form.replies, filled=filled,
                        revision=revision)


def register(app: AsyncApp, bus: Bus) -> None:
    """Attach every listener of the triage bot to a Bolt app."""
    config = bus.ctx.config

    @app.action(re.compile(rf"^({re.escape(Action.CLAIM)}|{re.escape(Action.APPROVE)}|{re.escape(Action.RETRY)}"
                           rf"|{re.escape(Action.MORE)}|{re.escape(Action.SPIKE_START)}"
                           rf"|{re.escape(Action.SPIKE_NOT_NOW)}|{re.escape(Action.STORM_CLAIM)})$"))
    async def on_button(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            command = translate.button_command(action, who)
            if command is not None:
                await bus.dispatch(command)
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(Action.ESCALATE)
    async def on_escalate(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        say = translate.words(config, body.get("user") or {})
        try:
            # Refused before the dialog opens: nobody fills in a form only to be told they may not send it.
            require_access(bus.ctx, translate.actor(config, body.get("user") or {}), Access.TEAM)
            mention_id = translate.subject_id(action)
            if not config.departments:
                raise DomainError("refusal.no_departments")
            departments = [config.department_view(key) for key in config.departments]
            await calls.call(client.views_open, trigger_id=body["trigger_id"],
                             view=escalate_modal(mention_id, departments, say))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(Action.ANSWER)
    async def on_answer(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            form: AnswerForm = await bus.dispatch(c.PrepareAnswer(translate.subject_id(action), who))
            await calls.call(client.views_open, trigger_id=body["trigger_id"], view=_answer_view(form, say))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(Block.SAVED_REPLY)
    async def on_saved_reply(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             client: AsyncWebClient) -> None:
        await ack()
        shown = body.get("view") or {}
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        mention_id = 0
        try:
            mention_id = translate.subject_id({"value": shown.get("private_metadata")})
            form: AnswerForm = await bus.dispatch(c.PrepareAnswer(mention_id, who))
            picked = form.reply(str((action.get("selected_option") or {}).get("value") or ""))
            view = _answer_view(form, say, picked, reply_revision(shown) + 1)
        except DomainError as exc:
            view = answer_refused_modal(mention_id, exc.said(say), say)
        await calls.call(client.views_update, view_id=shown.get("id"), hash=shown.get("hash"), view=view)

    @app.action(Action.DISMISS)
    async def on_dismiss(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        say = translate.words(config, body.get("user") or {})
        try:
            require_access(bus.ctx, translate.actor(config, body.get("user") or {}), Access.TEAM)
            await calls.call(client.views_open, trigger_id=body["trigger_id"],
                             view=dismiss_modal(translate.subject_id(action), say))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(re.compile(rf"^({re.escape(Action.STORM_ANSWER)}|{re.escape(Action.STORM_DISMISS)}"
                           rf"|{re.escape(Action.STORM_CRISIS)})$"))
    async def on_storm_dialog(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                              client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            require_access(bus.ctx, who, Access.LISTED if action["action_id"] == Action.STORM_CRISIS else Access.TEAM)
            storm_id = translate.subject_id(action, "storm")
            if action["action_id"] == Action.STORM_CRISIS:
                catalogue: PlaybookCatalogue = await bus.dispatch(c.ListPlaybooks(who))
                view = storm_crisis_modal(storm_id, [(p.key, p.title) for p in catalogue.playbooks], say)
            elif action["action_id"] == Action.STORM_ANSWER:
                view = storm_answer_modal(storm_id, say)
            else:
                view = storm_dismiss_modal(storm_id, say)
            await calls.call(client.views_open, trigger_id=body["trigger_id"], view=view)
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(Action.STORM_MEMBERS)
    async def on_storm_members(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                               client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            members: StormMembers = await bus.dispatch(translate.button_command(action, who))
        except DomainError as exc:
            await _refuse(client, body, exc, say)
            return
        await _ephemeral(client, body, say("command.storm_heading", count=members.total, storm=members.storm_id),
                         *render_member_list(reports.answer(members, MRKDWN, say)))

    @app.action(Action.REQUEST_CHANGES)
    async def on_request_changes(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                                 client: AsyncWebClient) -> None:
        await ack()
        say = translate.words(config, body.get("user") or {})
        try:
            require_access(bus.ctx, translate.actor(config, body.get("user") or {}), Access.LISTED)
            await calls.call(client.views_open, trigger_id=body["trigger_id"],
                             view=request_changes_modal(translate.subject_id(action, "draft"), say))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(re.compile(rf"^{re.escape(Action.CRISIS_DONE)}:\d+$"))
    async def on_crisis_done(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            await bus.dispatch(translate.crisis_done_command(action, who))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(re.compile(rf"^{re.escape(Action.CRISIS_SKIP)}:\d+$"))
    async def on_crisis_skip(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any],
                             client: AsyncWebClient) -> None:
        await ack()
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            crisis_id, step_id = translate.crisis_step(action.get("value"))
            view: ChecklistView = await bus.dispatch(c.ShowCrisis(who, crisis_id=crisis_id))
            title = next((s.title for s in view.steps if s.id == step_id), step_id)
            await calls.call(client.views_open, trigger_id=body["trigger_id"],
                             view=crisis_skip_modal(crisis_id, step_id, title, say))
        except DomainError as exc:
            await _refuse(client, body, exc, say)

    @app.action(Action.OPEN_POST)
    async def on_open_post(ack: AsyncAck) -> None:
        await ack()  # a link button: Slack opens the URL, we only acknowledge

    @app.view(re.compile(r"^webcare\."))
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        who = translate.actor(config, body.get("user") or {})
        say = translate.words(config, body.get("user") or {})
        try:
            await bus.dispatch(translate.view_command(view, who))
        except DomainError as exc:
            block = translate.ERROR_BLOCK.get(view.get("callback_id"))  # type: ignore[call-overload]
            if block is None:
                raise
            await ack(response_action="errors", errors={block_id_in(view, block): exc.said(say)[:150]})
            return
        await ack()

    @app.command("/webcare")
    async def on_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        user = {"id": command.get("user_id"), "name": command.get("user_name")}
        who, say = translate.actor(config, user), translate.words(config, user)
        try:
            query = translate.slash_command(command.get("text") or "", who, command.get("channel_id"))
            text = translate.help_text(say) if query is None else reports.answer(await bus.dispatch(query), MRKDWN, say)
        except DomainError as exc:  # it may quote what was typed: shown as written, nothing in it live
            text = escape_mrkdwn(exc.said(say))
        await ack(text=text, response_type="ephemeral")

    @app.event("app_mention")
    async def on_app_mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        say = translate.words(config, {"id": event["user"]})
        await calls.call(client.chat_postEphemeral, channel=event["channel"], user=event["user"],
                         text=say("notice.hello_slack"))

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        incident = uuid.uuid4().hex[:12]
        logger.error("slack: unhandled %s, incident %s", type(error).__name__, incident,
                     exc_info=(type(error), error, error.__traceback__))
        try:
            say = translate.words(config, (body or {}).get("user") or {})
            await _tell(client, body or {}, say("notice.apology", incident=incident))
        except Exception:  # the apology is best effort; the incident is logged
            logger.warning("slack: could not deliver the apology for incident %s", incident)
