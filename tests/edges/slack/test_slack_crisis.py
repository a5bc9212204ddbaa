"""Edge: crises through the real app over HTTP, signed Slack requests in, calls to the fake Slack Web API out."""

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.catalogue import words
from bot.core.crisis.views import ChecklistView, ReplyGate, StepStatus, StepView
from bot.core.views import CrisisTag, PersonRef
from bot.slack.crisis_render import render_checklist, render_report
from bot.slack.escape import escape_mrkdwn
from handlers.crisis import remind_overdue
from tests.support import (
    REPLY_SECRET,
    TRIAGE_CHANNEL,
    HandClock,
    block_action,
    context_of,
    event,
    ingest,
    mention_data,
    post_interaction,
    running_app,
    settle_slack,
    slash,
    view_submission,
)

EN = words("en")

SLACK_EPOCH = 1_732_200_000  # tests/fakes/slack_api.py numbers messages from here
LIVE = ("<!channel>", "<!here>", "<!everyone>", "<@U999>", "<#C999>", "<http://evil")
HOSTILE = "<!channel> <!here> <!everyone> <@U999> <#C999> <http://evil.example|refund> *win*"


@pytest.fixture
def clock():
    return HandClock()


@pytest.fixture
async def app(database_url, slack, receiver, clock):
    async with running_app(database_url, slack.url, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


@pytest.fixture
async def lite(sqlite_url, slack, receiver, clock):
    """The app on SQLite only, for behaviour that does not depend on the database."""
    async with running_app(sqlite_url, slack.url, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def settle(client) -> None:
    await settle_slack(client)  # Bolt runs a listener after acknowledging


async def typed(client, user, text, channel=TRIAGE_CHANNEL) -> str:
    response = await slash(client, user, text, channel_id=channel)
    assert response.status == 200, await response.text()
    answer = await response.json()
    assert answer["response_type"] == "ephemeral"
    await settle(client)
    return answer["text"]


async def click(client, user, action_id, value, *, channel=TRIAGE_CHANNEL, **kw) -> None:
    payload = block_action(user, action_id, str(value), **kw)
    payload["channel"]["id"] = payload["container"]["channel_id"] = channel
    response = await post_interaction(client, payload)
    assert response.status == 200, await response.text()
    await settle(client)


async def submit(client, user, callback_id, metadata, values) -> str:
    response = await post_interaction(client, view_submission(user, callback_id, str(metadata), values))
    assert response.status == 200, await response.text()
    await settle(client)
    return await response.text()


def text_of(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def by_subject(slack, channel, subject):
    for message in slack.messages(channel):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == subject:
            return message
    raise AssertionError(f"no message {subject} in {channel}")


def room_name(clock, suffix="") -> str:
    return f"crisis-outage-{clock.now:%Y%m%d}{suffix}"


def checklist(slack, channel, crisis_id=1):
    return by_subject(slack, channel, f"crisis:{crisis_id}:checklist")


def buttons(message) -> dict[str, tuple[str, str]]:
    """`"<label> <step id>"` → (action_id, value) of every checklist button."""
    found = {}
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found[f"{element['text']['text']} {element['value'].partition(':')[2]}"] = (element["action_id"],
                                                                                        element["value"])
    return found


def card_of(slack, mention_id):
    return by_subject(slack, TRIAGE_CHANNEL, f"card:{mention_id}")


def menu_of(card) -> dict[str, str]:
    return {o["text"]["text"]: o["value"] for b in card["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "overflow" for o in e["options"]}


async def one_mention(client, n=1, **overrides) -> int:
    [m] = await ingest(client, event(mention_data(n, **overrides)))
    await settle(client)
    return m["id"]


async def start_outage(client, slack, clock, user="U01ANNA", extra="") -> str:
    answer = await typed(client, user, f"crisis start outage{extra}")
    assert "started" in answer, answer
    return slack.channel_named(room_name(clock, "-drill" if "--drill" in extra else ""))


async def audits(client, crisis_id=1):
    async with context_of(client).db.uow() as uow:
        return await uow.audit.for_crisis(crisis_id)


# -- playbooks and start ------------------------------------------------------------------------


async def test_playbooks_are_listed_with_severity_steps_and_version(lite):
    answer = await typed(lite, "U03CARLA", "playbooks")
    assert "`outage` — Service outage (high, 4 steps, version" in answer
    assert "`rumour` — Rumour during a quiet period (medium, 1 steps" in answer
    helped = await typed(lite, "U03CARLA", "help")
    assert "*/webcare playbooks*" in helped and "*/webcare crisis start <playbook> [--drill] [note]*" in helped
    wrong = await typed(lite, "U03CARLA", "crisis skip brief-legal")
    assert wrong == escape_mrkdwn("Give a reason: `crisis skip brief-legal <reason>`.")


async def test_start_opens_a_channel_with_its_people_a_checklist_and_a_banner(app, slack, clock):
    answer = await typed(app, "U01ANNA", "crisis start outage Status page is red")
    assert answer.startswith("Crisis #1 started.")
    [create] = slack.calls_to("conversations.create")
    assert create["name"] == room_name(clock)
    room = slack.channel_named(room_name(clock))
    assert {"U01ANNA", "U02BRAM", "U03CARLA", "U04DIRK", "U05EVA"} <= slack.members[room]

    message = checklist(slack, room)
    shown = text_of(message["blocks"])
    assert "Crisis #1: Service outage" in shown
    assert "Owner corporate-communications: <@U02BRAM>" in shown
    assert "Owner webcare: <@U01ANNA>, <@U03CARLA>" in shown
    due = int((clock.now + timedelta(minutes=10)).timestamp())
    assert f"due <!date^{due}^" in shown and "(+10 min)" in shown
    assert "Replies to linked mentions wait for “Approve the holding statement”" in shown
    assert set(buttons(message)) == {"Mark done confirm-the-outage", "Skip… brief-legal"}

    banner = by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")
    assert f"<#{room}>" in text_of(banner["blocks"]) and "is running since" in text_of(banner["blocks"])
    assert "Lead (crisis-lead): <@U01ANNA>, <@U05EVA>" in text_of(banner["blocks"])
    assert "Status page is red" in shown
    assert [m for m in slack.messages(TRIAGE_CHANNEL) if m.get("thread_ts")] == []


async def test_a_taken_channel_name_gets_a_number(lite, slack, clock):
    taken = slack.take_channel_name(room_name(clock))
    await start_outage(lite, slack, clock)
    assert [c["name"] for c in slack.calls_to("conversations.create")] == [room_name(clock), room_name(clock, "-2")]
    room = slack.channel_named(room_name(clock, "-2"))
    assert slack.messages(taken) == []
    assert "Mark done" in text_of(checklist(slack, room)["blocks"])


async def test_where_channels_may_not_be_created_the_crisis_runs_in_a_thread_saying_so(lite, slack, clock):
    slack.refuse_channel_creation = "restricted_action"
    await start_outage(lite, slack, clock)
    assert slack.calls_to("conversations.invite") == []
    banner = by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")
    assert "the thread of this message" in text_of(banner["blocks"])
    replies = slack.thread(TRIAGE_CHANNEL, banner["ts"])[1:]
    intro, listed = replies[0], replies[1]
    assert "Slack did not let me create a channel" in text_of(intro["blocks"])
    assert "restricted_action" in text_of(intro["blocks"])
    assert "Mark done" in text_of(listed["blocks"]) and listed["thread_ts"] == banner["ts"]

    # Typed in the triage channel, the command acts on the only crisis: the thread's checklist changes.
    answer = await typed(lite, "U03CARLA", "crisis done confirm-the-outage")
    assert answer.startswith("“Confirm the outage” is done.")
    assert "Done by <@U03CARLA>" in text_of(checklist(slack, TRIAGE_CHANNEL)["blocks"])


async def test_an_unknown_playbook_gets_a_suggestion_and_starts_nothing(lite, slack):
    answer = await typed(lite, "U01ANNA", "crisis start outgae")
    assert answer == "There is no playbook 'outgae'. Did you mean: outage?"
    assert slack.calls_to("conversations.create") == [] and slack.messages(TRIAGE_CHANNEL) == []


async def test_a_crash_between_post_and_record_posts_once_and_makes_one_channel(lite, slack, clock):
    # The fake numbers messages from a fixed 2024 epoch; the bot looks for a lost post only among messages
    # newer than its job, as on real Slack, so this crisis starts then.
    clock.now = datetime.fromtimestamp(SLACK_EPOCH, UTC)
    slack.accept_then_drop("chat.postMessage")  # the room's first message is posted, the answer lost
    await start_outage(lite, slack, clock)
    clock.advance(seconds=30)
    await settle(lite)
    room = slack.channel_named(room_name(clock))
    assert len(slack.calls_to("conversations.create")) == 1
    subjects = [m["metadata"]["event_payload"]["subject"] for m in slack.messages(room)]
    assert subjects == ["crisis:1:room", "crisis:1:checklist"]


# -- steps --------------------------------------------------------------------------------------


async def test_mark_done_by_an_owner_updates_the_checklist_and_offers_the_next_step(app, slack, clock):
    room = await start_outage(app, slack, clock)
    action_id, value = buttons(checklist(slack, room))["Mark done confirm-the-outage"]
    await click(app, "U03CARLA", action_id, value, channel=room)
    message = checklist(slack, room)
    assert "Done by <@U03CARLA>" in text_of(message["blocks"])
    assert set(buttons(message)) == {"Mark done approve-the-holding-statement", "Skip… brief-legal"}
    assert slack.ephemerals == []
    assert [a.action for a in await audits(app)][-1] == "step_done"


async def test_mark_done_by_someone_else_is_refused_privately_changes_nothing_and_is_audited(app, slack, clock):
    room = await start_outage(app, slack, clock)
    before = checklist(slack, room)
    action_id, value = buttons(before)["Mark done confirm-the-outage"]
    await click(app, "U04DIRK", action_id, value, channel=room)
    [told] = slack.ephemerals
    assert (told["user"], told["channel"]) == ("U04DIRK", room)
    assert told["text"] == "Only a member of webcare or a member of crisis-lead can complete “Confirm the outage”."
    assert checklist(slack, room)["blocks"] == before["blocks"]
    refused = [a for a in await audits(app) if a.action == "step_refused"]
    assert [(a.actor, a.detail) for a in refused] == [("dirk", told["text"])]


async def test_a_step_out_of_order_is_refused(lite, slack, clock):
    room = await start_outage(lite, slack, clock)
    answer = await typed(lite, "U01ANNA", "crisis done post-the-all-clear", channel=room)
    assert answer.startswith("Cannot complete “Post the all-clear” yet — first: Confirm the outage (owner: webcare)")
    await click(lite, "U01ANNA", "webcare.crisis_done:3", "1:post-the-all-clear", channel=room)  # an old message
    assert slack.ephemerals[-1]["text"].startswith("Cannot complete “Post the all-clear” yet")
    assert "Done by" not in text_of(checklist(slack, room)["blocks"])


async def test_the_lead_skips_an_optional_step_with_a_reason_from_the_modal(app, slack, clock):
    room = await start_outage(app, slack, clock)
    action_id, value = buttons(checklist(slack, room))["Skip… brief-legal"]
    await click(app, "U01ANNA", action_id, value, channel=room)
    [opened] = slack.calls_to("views.open")
    assert opened["view"]["callback_id"] == "webcare.crisis_skip_modal"
    assert "Skip *Brief legal*?" in text_of(opened["view"])
    await submit(app, "U01ANNA", "webcare.crisis_skip_modal", opened["view"]["private_metadata"],
                 {"reason": {"type": "plain_text_input", "value": "Legal is briefed by phone <!channel>"}})
    shown = text_of(checklist(slack, room)["blocks"])
    assert "Skipped by <@U01ANNA>" in shown and "Legal is briefed by phone &lt;!channel&gt;" in shown
    assert "Skip… brief-legal" not in buttons(checklist(slack, room))


async def test_a_skip_by_someone_who_does_not_lead_is_refused_in_the_modal(lite, slack, clock):
    room = await start_outage(lite, slack, clock)
    body = await submit(lite, "U03CARLA", "webcare.crisis_skip_modal", "1:brief-legal",
                        {"reason": {"type": "plain_text_input", "value": "Not needed"}})
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"reason": "Only a member of crisis-lead can skip a step."}}
    assert "Skip… brief-legal" in buttons(checklist(slack, room))


# -- the reply gate -----------------------------------------------------------------------------


async def test_replies_wait_for_the_holding_statement_then_need_the_other_leads_approval(app, slack, clock, receiver):
    room = await start_outage(app, slack, clock)
    mention_id = await one_mention(app, reply_via="webhook")
    await click(app, "U01ANNA", "webcare.more", mention_id,
                selected_option=menu_of(card_of(slack, mention_id))["Link to Crisis #1: Service outage"])

    await click(app, "U01ANNA", "webcare.answer", mention_id)
    assert slack.calls_to("views.open") == []
    assert slack.ephemerals[-1]["text"] == ("Replies about this crisis wait for “Approve the holding statement” "
                                            "(owner: corporate-communications).")

    await typed(app, "U03CARLA", "crisis done confirm-the-outage", channel=room)
    await typed(app, "U02BRAM", "crisis done approve-the-holding-statement", channel=room)
    await click(app, "U01ANNA", "webcare.answer", mention_id)
    view = slack.calls_to("views.open")[-1]["view"]
    reply_input = next(b for b in view["blocks"] if b.get("block_id") == "reply_text")["element"]
    assert reply_input["initial_value"] == "We weten van de storing en werken aan een oplossing."
    assert "We know about the outage and are working on a fix." in text_of(view)
    assert "<@U05EVA> must approve" in text_of(view)

    await submit(app, "U01ANNA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "We know, a fix is coming."}})
    assert receiver.received == []
    card_thread = slack.thread(TRIAGE_CHANNEL, card_of(slack, mention_id)["ts"])
    draft = card_thread[-1]
    assert "awaiting <@U05EVA>" in text_of(draft["blocks"])
    draft_id = next(e["value"] for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"] == "webcare.approve")
    await click(app, "U01ANNA", "webcare.approve", draft_id)
    assert slack.ephemerals[-1]["text"].startswith("Four eyes: you wrote this reply")
    assert receiver.received == []
    await click(app, "U05EVA", "webcare.approve", draft_id)
    assert [r["data"]["text"] for r in receiver.received] == ["We know, a fix is coming."]


async def test_link_and_unlink_from_the_card_menu(app, slack, clock):
    room = await start_outage(app, slack, clock)
    mention_id = await one_mention(app)
    menu = menu_of(card_of(slack, mention_id))
    assert "Unlink from crisis" not in menu
    await click(app, "U03CARLA", "webcare.more", mention_id, selected_option=menu["Link to Crisis #1: Service outage"])
    card = card_of(slack, mention_id)
    assert ":rotating_light: *Crisis #1: Service outage*" in text_of(card["blocks"])
    assert "1 linked mention" in text_of(checklist(slack, room)["blocks"])

    unlink = menu_of(card)["Unlink from crisis"]
    await click(app, "U03CARLA", "webcare.more", mention_id, selected_option=unlink)
    assert slack.ephemerals[-1]["text"].startswith("Only a member of crisis-lead or a webcare lead can unlink")
    await click(app, "U05EVA", "webcare.more", mention_id, selected_option=unlink)
    card = card_of(slack, mention_id)
    assert "*Crisis #1" not in text_of(card["blocks"])
    assert "Link to Crisis #1: Service outage" in menu_of(card) and "Unlink from crisis" not in menu_of(card)
    assert "0 linked mentions" in text_of(checklist(slack, room)["blocks"])


# -- where commands act -------------------------------------------------------------------------


async def test_beside_a_drill_commands_act_on_their_channels_crisis_and_elsewhere_ask_which(app, slack, clock):
    room = await start_outage(app, slack, clock)
    drill_room = await start_outage(app, slack, clock, extra=" --drill")
    assert drill_room is not None and drill_room != room

    asked = await typed(app, "U03CARLA", "crisis done confirm-the-outage")
    assert asked.startswith("Several crises are running: #1 Service outage, #2 Service outage (drill).")
    assert "Done by" not in text_of(checklist(slack, room)["blocks"])

    await typed(app, "U03CARLA", "crisis done confirm-the-outage", channel=drill_room)
    assert "Done by <@U03CARLA>" in text_of(checklist(slack, drill_room, 2)["blocks"])
    assert "Done by" not in text_of(checklist(slack, room)["blocks"])


async def test_a_drill_is_marked_everywhere_and_gates_no_reply(lite, slack, clock):
    room = await start_outage(lite, slack, clock, extra=" --drill")
    mention_id = await one_mention(lite, reply_via="webhook")
    assert room == slack.channel_named(room_name(clock, "-drill"))
    assert "Drill #1: Service outage" in text_of(checklist(slack, room)["blocks"])
    assert "This is a drill: it gates no replies." in text_of(checklist(slack, room)["blocks"])
    assert "Drill #1" in text_of(by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")["blocks"])

    await click(lite, "U03CARLA", "webcare.more", mention_id,
                selected_option=menu_of(card_of(slack, mention_id))["Link to Drill #1: Service outage"])
    assert ":performing_arts: *Drill #1: Service outage*" in text_of(card_of(slack, mention_id)["blocks"])
    await click(lite, "U03CARLA", "webcare.answer", mention_id)
    assert slack.ephemerals == []
    assert slack.calls_to("views.open")[-1]["view"]["callback_id"] == "webcare.answer_modal"


# -- reminders and the end ----------------------------------------------------------------------


async def test_an_overdue_step_reminds_its_owners_then_the_lead_each_once(app, slack, clock):
    room = await start_outage(app, slack, clock)

    def reminders():
        return [m for m in slack.messages(room)
                if m["metadata"]["event_payload"]["subject"].startswith("crisis-notice:reminder:")]

    clock.advance(minutes=5)
    assert await remind_overdue(context_of(app)) == 0
    clock.advance(minutes=6)
    assert await remind_overdue(context_of(app)) == 1
    await settle(app)
    [owner] = reminders()
    assert "<@U01ANNA>, <@U03CARLA>: “Confirm the outage” was due" in text_of(owner["blocks"])
    assert "OVERDUE" in text_of(checklist(slack, room)["blocks"])
    assert await remind_overdue(context_of(app)) == 0

    clock.advance(minutes=10)
    assert await remind_overdue(context_of(app)) == 1
    await remind_overdue(context_of(app))
    await settle(app)
    [_, lead] = reminders()
    assert "<@U01ANNA>, <@U05EVA>: “Confirm the outage” (owner: webcare)" in text_of(lead["blocks"])
    assert "Please step in." in text_of(lead["blocks"])


async def test_end_is_refused_while_steps_are_open_then_forced_by_the_lead_with_the_report(app, slack, clock):
    room = await start_outage(app, slack, clock)
    refused = await typed(app, "U03CARLA", "crisis end", channel=room)
    assert refused.startswith("The crisis cannot end yet; still open: Confirm the outage (owner: webcare)")

    clock.advance(minutes=42)
    answer = await typed(app, "U01ANNA", "crisis end --force IT fixed it <!here>", channel=room)
    assert answer.startswith("“Service outage” has ended early by Anna de Vries: IT fixed it &lt;!here&gt;.")
    report = by_subject(slack, room, "crisis-notice:report:1:end")
    [markdown] = [b for b in report["blocks"] if b["type"] == "markdown"]
    assert markdown["text"].startswith("# Crisis report: Service outage (#1)")
    assert "**forced**: IT fixed it &lt;!here&gt;" in markdown["text"]
    banner = text_of(by_subject(slack, TRIAGE_CHANNEL, "crisis:1:banner")["blocks"])
    assert "Ended" in banner and "IT fixed it &lt;!here&gt;" in banner and f"report is in <#{room}>" in banner
    assert buttons(checklist(slack, room)) == {}


# -- untrusted text -----------------------------------------------------------------------------


async def test_customer_text_and_our_notes_never_reach_a_crisis_as_live_markup(lite, slack, clock):
    await typed(lite, "U01ANNA", f"crisis start outage {HOSTILE}")
    room = slack.channel_named(room_name(clock))
    mention_id = await one_mention(lite, text=HOSTILE, author={"handle": "<!here>", "display_name": "<@U999>",
                                                               "followers": 1})
    await click(lite, "U01ANNA", "webcare.more", mention_id,
                selected_option=menu_of(card_of(slack, mention_id))["Link to Crisis #1: Service outage"])
    await typed(lite, "U03CARLA", f"crisis done confirm-the-outage {HOSTILE}", channel=room)
    await typed(lite, "U01ANNA", f"crisis end --force {HOSTILE}", channel=room)
    sent = [text_of(c) for c in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")]
    assert any("&lt;!channel&gt;" in s for s in sent)
    for payload in sent:
        for live in LIVE:
            assert live not in payload


# -- Block Kit limits ---------------------------------------------------------------------------


def _big_checklist(steps: int) -> ChecklistView:
    start = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
    owner = PersonRef("anna", "Anna", chat_ids=(("slack", "U01ANNA"),))
    views = tuple(StepView(f"step-{i}-" + "x" * 150, f"Step {i} " + "y" * 100, "webcare", (owner,),
                           StepStatus.NEXT if i == 0 else StepStatus.WAITING, optional=i % 2 == 1,
                           unlocks_replies=False, due_at=start + timedelta(minutes=10 * (i + 1)))
                  for i in range(steps))
    return ChecklistView(id=7, playbook="huge", title="Huge", severity="high", version="abc", drill=False,
                         started_at=start, started_by=owner, lead_role="crisis-lead", leads=(owner,), steps=views,
                         gate=ReplyGate.OPEN, gate_step=None, linked=0, now=start, note="n" * 5000)


@pytest.mark.parametrize("steps", [1, 4, 30, 120])
def test_a_checklist_stays_within_block_kit_limits(steps):
    _, blocks = render_checklist(_big_checklist(steps), EN)
    assert len(blocks) <= 50
    for block in blocks:
        assert len(block.get("text", {}).get("text", "")) <= 3000
        for element in block.get("elements", []):
            assert len(element.get("text", "") if isinstance(element.get("text"), str) else "") <= 3000
    elements = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert all(len(e["value"]) <= 2000 for e in elements)
    assert len({e["action_id"] for e in elements}) == len(elements)
    assert any(e["text"]["text"].startswith("Mark done") for e in elements)


def test_a_long_report_is_cut_with_a_note():
    _, blocks = render_report(CrisisTag(3, "Outage", False), "# Report\n" + "- a line of the timeline\n" * 2000, EN)
    [markdown] = [b for b in blocks if b["type"] == "markdown"]
    assert len(markdown["text"]) <= 12_000
    assert markdown["text"].endswith("the full report is printed by `webcare crisis report 3`.")


def test_a_dutch_team_reads_its_checklist_in_dutch():
    view = _big_checklist(2)
    _, blocks = render_checklist(dataclasses.replace(view, now=view.started_at - timedelta(days=1)), words("nl"))
    shown = text_of(blocks)
    assert "Antwoorden op gekoppelde vermeldingen mogen weer." in shown
    assert "Eigenaar webcare: <@U01ANNA> · klaar om <!date^" in shown and "^{date_short_pretty} om {time}|" in shown
    assert "09:10 UTC op za 1 mrt> (+10 min)" in shown
    assert [e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]] == [
        "Afvinken", "Overslaan…"]
