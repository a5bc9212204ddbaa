"""Edge: crises on Teams over the wire — typed `@Webcare crisis …`, the checklist thread, its buttons and notices.

The real app serves signed activities from the offline Bot Framework kit; everything the bot
posts lands in the fake Bot Connector, which only accepts calls with a token the kit issued.
A crisis lives in a new thread of the triage channel: its root post is the checklist (and the
banner), reminders and the report are replies in it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.storage.models import Audit
from handlers.crisis import remind_overdue
from tests.edges.teams.wire import (
    ANNA,
    BRAM,
    CHANNEL,
    ZOE,
    card_action,
    card_post,
    card_text,
    cards_in,
    executes,
    invoke,
    mention_entities,
    message_text,
    one_mention,
    quiet,
    refreshed_card,
    said,
    send,
    settle,
    teams_settings,
    the_card,
    thread_of,
    typed,
    until,
)
from tests.fakes.bot_auth import BotFrameworkAuthFake
from tests.fakes.bot_connector import BotConnectorFake
from tests.support import REPLY_SECRET, ShiftedClock, context_of, running_app

EVA = ("29:5eva", "Eva Hendriks")  # crisis-lead with a Teams id; Anna is the other crisis lead
CONFIRM, HOLDING, LEGAL, ALL_CLEAR = ("confirm-the-outage", "approve-the-holding-statement", "brief-legal",
                                      "post-the-all-clear")


@pytest.fixture
def clock() -> ShiftedClock:
    return ShiftedClock()


@pytest.fixture
async def app(database_url, kit, connector, receiver, clock):
    async with running_app(database_url, None, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


@pytest.fixture
async def lite(sqlite_url, kit, connector, receiver, clock):
    """The same app on SQLite only, for what does not depend on the database."""
    async with running_app(sqlite_url, None, clock=clock, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET, **teams_settings(kit, connector)) as client:
        yield client
        await settle(client)


# -- typing to the bot -----------------------------------------------------------------------------


async def type_in(client, kit: BotFrameworkAuthFake, connector: BotConnectorFake, user: tuple[str, str], text: str,
                  *, thread: str | None = None) -> str:
    """`@Webcare <text>` as a new post in the triage channel, or as a reply in the thread rooted at `thread`."""
    body = typed(connector, kit, user, text, channel=True)
    body["id"] = str(int(body["id"]) + 7)  # never the id of a post the bot made
    root = thread or body["id"]
    body["conversation"] = {**body["conversation"], "id": f"{CHANNEL};messageid={root}"}
    before = len(connector.calls)
    response = await send(client, kit, body)
    assert response.status in (200, 201, 202), await response.text()

    def answers() -> list[Any]:
        return [c.body for c in connector.calls[before:] if c.operation == "reply_to_activity"
                and c.activity_id == body["id"] and c.status < 300]

    await until(client, answers, timeout=5, what=f"an answer to {text!r}")
    [answer] = answers()
    return message_text(answer).replace("*", "")


# -- the crisis thread -----------------------------------------------------------------------------


def checklist_post(connector: BotConnectorFake, crisis_id: int) -> dict[str, Any]:
    """The root post of the crisis' thread in the triage channel, as it is now."""
    found = [p for p in connector.posts(CHANNEL) for c in cards_in(p) if f'"crisis-{crisis_id}-title"' in json.dumps(c)]
    assert len(found) == 1, f"{len(found)} checklists for crisis {crisis_id}"
    return found[0]


def checklist(connector: BotConnectorFake, crisis_id: int) -> dict[str, Any]:
    [card] = cards_in(checklist_post(connector, crisis_id))
    return card


def shown(connector: BotConnectorFake, crisis_id: int) -> str:
    return card_text(checklist(connector, crisis_id))


def replies(connector: BotConnectorFake, crisis_id: int) -> list[dict[str, Any]]:
    """What the bot posted in the crisis' thread after its root (the answers to typed commands excluded)."""
    root = checklist_post(connector, crisis_id)["id"]
    return [m for m in connector.thread(CHANNEL, root) if m["id"] != root and cards_in(m)]


async def start(client, kit, connector, user=ANNA, text: str = "crisis start outage") -> int:
    """Start a crisis by typing in the triage channel; wait for its thread; return its number."""
    answer = await type_in(client, kit, connector, user, text)
    assert " started." in answer, answer
    crisis_id = int(answer.split("#", 1)[1].split(" ", 1)[0])
    await until(client, lambda: checklist_post(connector, crisis_id), what=f"the thread of crisis {crisis_id}")
    return crisis_id


def thread_id(connector: BotConnectorFake, crisis_id: int) -> str:
    return checklist_post(connector, crisis_id)["id"]


async def click(client, kit, connector, user, crisis_id: int, verb: str, step: str, **inputs: str) -> dict[str, Any]:
    """Click a checklist button (Mark done, or Skip with its reason input) as an `Action.Execute` invoke."""
    data = {"crisis_id": crisis_id, "step": step, **{f"reason-{step}": v for v in inputs.values()}}
    return await invoke(client, kit, connector, user, f"webcare.crisis_{verb}", data, thread_id(connector, crisis_id))


async def audits(client, crisis_id: int) -> list[Audit]:
    async with context_of(client).db.uow() as uow:
        return await uow.audit.for_crisis(crisis_id)


def buttons(card: dict[str, Any]) -> list[tuple[str, Any]]:
    """(verb, step) of every checklist button."""
    return [(a["verb"], a["data"].get("step")) for a in executes(card)]


# -- starting --------------------------------------------------------------------------------------


async def test_crisis_start_opens_a_thread_holding_the_checklist_with_owners_mentioned(app, kit, connector, clock):
    crisis_id = await start(app, kit, connector)
    [created] = [c for c in connector.calls_to("create_conversation") if c.status == 201]
    assert created.body["channelData"]["channel"]["id"] == CHANNEL  # a new thread in the triage channel
    card = checklist(connector, crisis_id)
    text = card_text(card)
    for expected in (f"🚨 Crisis #{crisis_id}: Service outage", "Severity high", "started", "Anna de Vries",
                     "Confirm the outage", "Approve the holding statement", "Brief legal", "Post the all-clear",
                     "unlocks replies", "optional", "Owner: webcare", "Owner: corporate-communications",
                     "replies wait for “Approve the holding statement” (owner: corporate-communications)"):
        assert expected in text, (expected, text)
    started = clock()
    for minutes in (10, 30, 240):  # due times, from the start
        assert f"Due {started + timedelta(minutes=minutes):%H:%M} UTC" in text, (minutes, text)
    # owners and leads with a Teams id in webcare.toml are mentioned; Carla (webcare, no Teams id) is named
    entities = mention_entities(card)
    assert {e["mentioned"]["id"] for e in entities} == {"29:1anna", "29:2bram", "29:5eva"}
    assert all(e["text"] == f"<at>{e['mentioned']['name']}</at>" for e in entities)
    assert "Carla Smit" in text and "<at>Carla Smit</at>" not in json.dumps(card, ensure_ascii=False)
    assert "Dirk Bakker" in text  # legal, no Teams id: named, not pinged
    # only the step that can be done now has Mark done; the optional one can be skipped
    assert buttons(card) == [("webcare.crisis_done", CONFIRM), ("webcare.crisis_skip", LEGAL)]
    assert len(connector.posts(CHANNEL)) == 1


async def test_playbooks_and_help_are_typed_commands(lite, kit, connector):
    listed = await type_in(lite, kit, connector, ANNA, "playbooks")
    assert "outage" in listed and "Service outage (high, 4 steps" in listed, listed
    help_text = await type_in(lite, kit, connector, ANNA, "help")
    assert "crisis start" in help_text and "crisis done" in help_text, help_text
    unknown = await type_in(lite, kit, connector, ANNA, "crisis start outgae")
    assert "There is no playbook 'outgae'. Did you mean: outage?" in unknown, unknown
    assert connector.calls_to("create_conversation") == []


async def test_a_note_typed_with_the_start_is_shown_as_written_and_pings_nobody(lite, kit, connector):
    note = "**all** down [status](http://evil.example) @channel"  # (Teams strips <at> tags from typed text)
    crisis_id = await start(lite, kit, connector, text=f"crisis start outage {note}")
    card = checklist(connector, crisis_id)
    runs = [i["text"] for n in _nodes(card) if n.get("type") == "RichTextBlock" for i in n["inlines"]]
    assert any("**all** down [status](http://evil.example)" in r for r in runs), runs
    blocks = [n["text"] for n in _nodes(card) if n.get("type") == "TextBlock"]
    assert not any("evil.example" in b or "**all**" in b for b in blocks), blocks
    assert {e["mentioned"]["id"] for e in mention_entities(card)} == {"29:1anna", "29:2bram", "29:5eva"}


def _nodes(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value] + [n for v in value.values() for n in _nodes(v)]
    if isinstance(value, list):
        return [n for v in value for n in _nodes(v)]
    return []


# -- steps -----------------------------------------------------------------------------------------


async def test_mark_done_by_an_owner_refreshes_the_checklist_and_a_stranger_is_refused(app, kit, connector):
    crisis_id = await start(app, kit, connector)
    refused = await click(app, kit, connector, BRAM, crisis_id, "done", CONFIRM)
    text = said(refused)
    assert text.startswith("⚠ Only a member of webcare or a member of crisis-lead can complete “Confirm the outage”"), \
        text
    assert "Confirm the outage" in text and "Done by" not in text  # the checklist is under the refusal, unchanged
    await quiet(app)
    assert "Done by" not in shown(connector, crisis_id)
    assert [(a.actor, a.action) for a in await audits(app, crisis_id)][-1] == ("bram", "step_refused")

    answer = await invoke(app, kit, connector, ANNA, "webcare.crisis_done", {"crisis_id": crisis_id, "step": CONFIRM},
                          thread_id(connector, crisis_id))
    card = refreshed_card(answer)
    assert "Done by Anna de Vries" in card_text(card) and "⚠" not in card_text(card)
    assert ("webcare.crisis_done", HOLDING) in buttons(card)  # the next step can be done now
    await until(app, lambda: "Done by Anna de Vries" in shown(connector, crisis_id), what="the checklist update")
    assert any(c.activity_id == thread_id(connector, crisis_id) and c.status == 200
               for c in connector.calls_to("update_activity"))
    assert len(connector.posts(CHANNEL)) == 1  # updated in place, not posted again


async def test_the_action_submit_fallback_marks_done_and_skips_too(lite, kit, connector):
    crisis_id = await start(lite, kit, connector)
    root = thread_id(connector, crisis_id)
    body = card_action("submit", connector, ANNA, "webcare.crisis_done", {"crisis_id": crisis_id, "step": CONFIRM},
                       root)
    assert (await send(lite, kit, body)).status in (200, 201, 202)
    body = card_action("submit", connector, ANNA, "webcare.crisis_skip",
                       {"crisis_id": crisis_id, "step": LEGAL, f"reason-{LEGAL}": "Nothing legal in it"}, root)
    assert (await send(lite, kit, body)).status in (200, 201, 202)
    await until(lite, lambda: "Skipped by Anna de Vries" in shown(connector, crisis_id), what="the checklist update")
    text = shown(connector, crisis_id)
    assert "Done by Anna de Vries" in text and "Nothing legal in it" in text


async def test_steps_are_done_in_order_and_typed_in_the_thread_they_act_on_its_crisis(app, kit, connector):
    crisis_id = await start(app, kit, connector)
    root = thread_id(connector, crisis_id)
    early = await type_in(app, kit, connector, ANNA, f"crisis done {ALL_CLEAR}", thread=root)
    assert "Cannot complete “Post the all-clear” yet — first: Confirm the outage (owner: webcare)" in early, early
    done = await type_in(app, kit, connector, ANNA, f"crisis done {CONFIRM} status page red since 09:02", thread=root)
    assert "“Confirm the outage” is done." in done, done
    await until(app, lambda: "Done by Anna de Vries" in shown(connector, crisis_id), what="the checklist update")
    assert "status page red since 09:02" in shown(connector, crisis_id)


async def test_skip_an_optional_step_with_a_reason_by_the_lead_only(lite, kit, connector):
    crisis_id = await start(lite, kit, connector)
    [skip] = [a for a in executes(checklist(connector, crisis_id)) if a["verb"] == "webcare.crisis_skip"]
    assert skip["data"] == {"crisis_id": crisis_id, "step": LEGAL}
    refused = await click(lite, kit, connector, BRAM, crisis_id, "skip", LEGAL, reason="not needed")
    assert "⚠ Only a member of crisis-lead can skip a step." in said(refused)
    refused = await click(lite, kit, connector, ANNA, crisis_id, "skip", CONFIRM, reason="obvious")
    assert "“Confirm the outage” is required and cannot be skipped" in said(refused)

    answer = await click(lite, kit, connector, ANNA, crisis_id, "skip", LEGAL, reason="No legal exposure <at>Eva</at>")
    text = card_text(refreshed_card(answer))
    assert "Skipped by Anna de Vries" in text and "No legal exposure" in text
    await until(lite, lambda: "Skipped by Anna de Vries" in shown(connector, crisis_id), what="the checklist update")
    card = checklist(connector, crisis_id)
    assert ("webcare.crisis_skip", LEGAL) not in buttons(card)
    assert {e["mentioned"]["id"] for e in mention_entities(card)} == {"29:1anna", "29:2bram", "29:5eva"}
    assert "<at>Eva</at>" not in json.dumps(card, ensure_ascii=False)  # a reason never mentions anyone


async def test_with_a_drill_beside_a_crisis_the_channel_asks_which_and_each_thread_knows(app, kit, connector):
    real = await start(app, kit, connector)
    drill = await start(app, kit, connector, text="crisis start outage --drill")
    assert "🧪 Drill" in shown(connector, drill) and "DRILL" in shown(connector, drill)
    assert "🚨 Crisis" in shown(connector, real) and "DRILL" not in shown(connector, real)
    asked = await type_in(app, kit, connector, ANNA, f"crisis done {CONFIRM}")
    assert f"Several crises are running: #{real} Service outage, #{drill} Service outage (drill)" in asked, asked

    done = await type_in(app, kit, connector, ANNA, f"crisis done {CONFIRM}", thread=thread_id(connector, drill))
    assert "“Confirm the outage” is done." in done and f"Drill #{drill}" in done, done
    await until(app, lambda: "Done by Anna de Vries" in shown(connector, drill), what="the drill's checklist")
    await quiet(app)
    assert "Done by" not in shown(connector, real)


# -- linking and the reply gate ----------------------------------------------------------------------


async def test_link_and_unlink_from_a_card(lite, kit, connector):
    crisis_id = await start(lite, kit, connector)
    mention_id = await one_mention(lite, connector)
    card_id = card_post(connector, mention_id)["id"]
    [link] = [a for a in executes(the_card(connector, mention_id)) if a["verb"] == "webcare.link"]
    assert link["title"] == "Link to crisis: Service outage" and link["mode"] == "secondary"
    assert link["data"] == {"mention_id": mention_id, "crisis_id": crisis_id}

    refused = await invoke(lite, kit, connector, ZOE, "webcare.link", link["data"], card_id)
    assert "⚠ Only people listed in webcare.toml can link mentions to a crisis." in said(refused)
    answer = await invoke(lite, kit, connector, ANNA, "webcare.link", link["data"], card_id)
    assert f"🚨 Crisis #{crisis_id}: Service outage" in card_text(refreshed_card(answer))
    await until(lite, lambda: f"Crisis #{crisis_id}" in card_text(the_card(connector, mention_id)),
                what="the card to show the crisis")
    verbs = [a["verb"] for a in executes(the_card(connector, mention_id))]
    assert "webcare.unlink" in verbs and "webcare.link" not in verbs
    await until(lite, lambda: "1 linked mention" in shown(connector, crisis_id), what="the checklist to count it")

    refused = await invoke(lite, kit, connector, BRAM, "webcare.unlink", {"mention_id": mention_id}, card_id)
    assert "⚠ Only a member of crisis-lead or a webcare lead can unlink" in said(refused)
    answer = await invoke(lite, kit, connector, ANNA, "webcare.unlink", {"mention_id": mention_id}, card_id)
    assert "Crisis #" not in card_text(refreshed_card(answer))
    await until(lite, lambda: "Crisis #" not in card_text(the_card(connector, mention_id)),
                what="the card to drop the crisis")
    assert "webcare.link" in [a["verb"] for a in executes(the_card(connector, mention_id))]


def _reply_form(card: dict[str, Any]) -> dict[str, Any]:
    [answer] = [a for a in card["actions"] if a["title"] == "Answer"]
    [reply] = [n for n in answer["card"]["body"] if n.get("id") == "reply_text"]
    return reply


async def test_a_reply_waits_for_the_holding_statement_then_needs_the_other_lead(app, kit, connector, receiver):
    crisis_id = await start(app, kit, connector)
    mention_id = await one_mention(app, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    await invoke(app, kit, connector, ANNA, "webcare.link", {"mention_id": mention_id, "crisis_id": crisis_id},
                 card_id)
    assert "value" not in _reply_form(the_card(connector, mention_id))  # nothing unlocked yet

    refused = await invoke(app, kit, connector, ANNA, "webcare.answer",
                           {"mention_id": mention_id, "reply_text": "We are on it."}, card_id)
    assert ("⚠ Replies about this crisis wait for “Approve the holding statement” (owner: corporate-communications)"
            in said(refused)), said(refused)
    assert ("anna", "reply_refused") in [(a.actor, a.action) for a in await audits(app, crisis_id)]

    await click(app, kit, connector, ANNA, crisis_id, "done", CONFIRM)
    await click(app, kit, connector, BRAM, crisis_id, "done", HOLDING)
    await until(app, lambda: _reply_form(the_card(connector, mention_id)).get("value"),
                what="the Answer form to offer the holding statement")
    form = _reply_form(the_card(connector, mention_id))
    assert form["value"] == "We weten van de storing en werken aan een oplossing."
    assert "We know about the outage and are working on a fix." in card_text(the_card(connector, mention_id))
    await quiet(app)
    assert receiver.received == []

    answer = await invoke(app, kit, connector, ANNA, "webcare.answer",
                          {"mention_id": mention_id, "reply_text": form["value"]}, card_id)
    assert "Awaiting approval" in card_text(refreshed_card(answer))

    def draft() -> dict[str, Any]:
        [message] = [m for m in thread_of(connector, mention_id) if "Draft by" in message_text(m)]
        return message

    await until(app, draft, what="the draft in the card's thread")
    assert [e["mentioned"]["id"] for e in mention_entities(draft())] == [EVA[0]]  # the other crisis lead
    [approve] = [a for c in cards_in(draft()) for a in executes(c) if a["verb"] == "webcare.approve"]
    refused = await invoke(app, kit, connector, ANNA, "webcare.approve", approve["data"], draft()["id"])
    assert "Four eyes: you wrote this reply, so another member of crisis-lead must approve it." in said(refused)
    await quiet(app)
    assert receiver.received == []

    await invoke(app, kit, connector, EVA, "webcare.approve", approve["data"], draft()["id"])
    await until(app, lambda: receiver.received, what="the approved reply to go out")
    assert [r["data"]["text"] for r in receiver.received] == ["We weten van de storing en werken aan een oplossing."]


async def test_a_drill_is_marked_as_such_and_gates_no_reply(lite, kit, connector, receiver):
    drill = await start(lite, kit, connector, text="crisis start outage --drill")
    text = shown(connector, drill)
    assert f"🧪 Drill #{drill}: Service outage" in text and "a drill gates no replies" in text, text
    mention_id = await one_mention(lite, connector, reply_via="webhook")
    card_id = card_post(connector, mention_id)["id"]
    await invoke(lite, kit, connector, ANNA, "webcare.link", {"mention_id": mention_id, "crisis_id": drill}, card_id)
    await until(lite, lambda: f"🧪 Drill #{drill}" in card_text(the_card(connector, mention_id)),
                what="the card to show the drill")
    await invoke(lite, kit, connector, ANNA, "webcare.answer", {"mention_id": mention_id, "reply_text": "On it!"},
                 card_id)
    await until(lite, lambda: receiver.received, what="the reply, not held by the drill")
    assert [r["data"]["text"] for r in receiver.received] == ["On it!"]


# -- reminders, the end and the report -------------------------------------------------------------


async def test_overdue_steps_remind_the_owner_then_the_lead_once_each(app, kit, connector, clock):
    crisis_id = await start(app, kit, connector)
    ctx = context_of(app)
    assert await remind_overdue(ctx) == 0
    clock.advance(minutes=11)
    assert await remind_overdue(ctx) == 1
    await until(app, lambda: replies(connector, crisis_id), what="the owner's reminder")
    [owner] = replies(connector, crisis_id)
    assert "“Confirm the outage” is overdue" in message_text(owner)
    assert [e["mentioned"]["id"] for e in mention_entities(owner)] == ["29:1anna"]  # webcare; Carla is named
    assert "Carla Smit" in message_text(owner)
    await until(app, lambda: "overdue" in shown(connector, crisis_id), what="the checklist to flag it")
    assert await remind_overdue(ctx) == 0

    clock.advance(minutes=10)  # 21 minutes: more than twice its 10
    assert await remind_overdue(ctx) == 1
    await until(app, lambda: len(replies(connector, crisis_id)) == 2, what="the lead's reminder")
    lead = replies(connector, crisis_id)[1]
    assert "still not done, more than twice past its due time" in message_text(lead)
    assert {e["mentioned"]["id"] for e in mention_entities(lead)} == {"29:1anna", "29:5eva"}
    assert await remind_overdue(ctx) == 0
    await quiet(app)
    assert len(replies(connector, crisis_id)) == 2


async def test_a_reminder_for_a_step_done_meanwhile_posts_nothing(lite, kit, connector, clock):
    crisis_id = await start(lite, kit, connector)
    clock.advance(minutes=11)
    assert await remind_overdue(context_of(lite)) == 1  # queued …
    await click(lite, kit, connector, ANNA, crisis_id, "done", CONFIRM)  # … but done before it is posted
    await quiet(lite)
    assert replies(connector, crisis_id) == []


async def test_end_is_refused_with_steps_open_then_forced_by_the_lead_and_the_report_posted(app, kit, connector):
    crisis_id = await start(app, kit, connector)
    root = thread_id(connector, crisis_id)
    await type_in(app, kit, connector, ANNA, f"crisis done {CONFIRM}", thread=root)
    refused = await type_in(app, kit, connector, BRAM, "crisis end", thread=root)
    assert "The crisis cannot end yet; still open: Approve the holding statement" in refused, refused
    assert "Only a member of crisis-lead can end it early." in refused
    await quiet(app)
    assert "ended" not in shown(connector, crisis_id)

    ended = await type_in(app, kit, connector, ANNA, "crisis end --force Service restored; statement not needed",
                          thread=root)
    assert "has ended early by Anna de Vries: Service restored; statement not needed" in ended, ended
    await until(app, lambda: "ended at" in shown(connector, crisis_id), what="the checklist to say ended")
    card = checklist(connector, crisis_id)
    assert "Ended early: Service restored; statement not needed" in card_text(card)
    assert buttons(card) == []  # nothing to click on an ended crisis
    await until(app, lambda: replies(connector, crisis_id), what="the report in the thread")
    [report] = replies(connector, crisis_id)
    text = message_text(report)
    assert f"# Crisis report: Service outage (#{crisis_id})" in text
    assert "forced" in text and "Service restored; statement not needed" in text
    assert "| Confirm the outage | webcare |" in text and "webcare crisis report" in text
    assert [a.action for a in await audits(app, crisis_id)].count("crisis_forced_end") == 1
    assert mention_entities(report) == []
