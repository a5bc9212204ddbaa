"""Edge: the real app over HTTP, signed Slack requests in, calls to a local fake Slack Web API out."""

import asyncio
import json
import logging

import pytest

from tests.support import (
    INGEST_SECRET,
    REPLY_SECRET,
    SLACK_SIGNING_SECRET,
    SLACK_TOKEN,
    TRIAGE_CHANNEL,
    block_action,
    event,
    ingest,
    mention_data,
    post_interaction,
    relay_of,
    running_app,
    settle_slack,
    slack_headers,
    slash,
    view_submission,
)


async def settle(client) -> None:
    """Let the outbox relay finish everything that is due."""
    await relay_of(client).drain()


def card_of(slack, mention_id):
    for message in slack.messages(TRIAGE_CHANNEL):
        if (message.get("metadata") or {}).get("event_payload", {}).get("subject") == f"card:{mention_id}":
            return message
    raise AssertionError(f"no card for mention {mention_id}")


def thread_of(slack, mention_id):
    card = card_of(slack, mention_id)
    return [m for m in slack.thread(TRIAGE_CHANNEL, card["ts"]) if m["ts"] != card["ts"]]


def text_of(blocks) -> str:
    return json.dumps(blocks, ensure_ascii=False)


@pytest.fixture
async def app(sqlite_url, slack, receiver):
    async with running_app(sqlite_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def one_mention(client, n=1, **overrides) -> int:
    [m] = await ingest(client, event(mention_data(n, **overrides)))
    await settle(client)
    return m["id"]


async def click(client, user, action_id, value, **kw):
    response = await post_interaction(client, block_action(user, action_id, str(value), **kw))
    assert response.status == 200, await response.text()
    await settle_slack(client)  # Bolt runs the listener after acknowledging


async def submit(client, user, callback_id, metadata, values):
    response = await post_interaction(client, view_submission(user, callback_id, str(metadata), values))
    assert response.status == 200, await response.text()
    await settle_slack(client)
    return await response.text()


async def test_card_shows_network_author_text_link_and_buttons(app, slack):
    mention_id = await one_mention(app, followers=312)
    [post] = slack.calls_to("chat.postMessage")
    assert post["channel"] == TRIAGE_CHANNEL
    assert post["unfurl_links"] is False and post["unfurl_media"] is False
    card = text_of(post["blocks"])
    for expected in ("*X*", "Sanne de Vries", "@sannedv", "312 followers", "5 min ago",
                     "my order #48213 still hasn", "Open post"):
        assert expected in card
    assert post["metadata"]["event_payload"] == {"subject": f"card:{mention_id}"}
    labels = [e["text"]["text"] for b in post["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels == ["Claim", "Escalate", "Answer", "Dismiss", "Open post"]


async def test_claim_updates_the_card_and_the_loser_is_told_who_has_it(app, slack):
    mention_id = await one_mention(app)
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    assert "Claimed* by <@U03CARLA>" in text_of(card_of(slack, mention_id)["blocks"])
    await click(app, "U01ANNA", "webcare.claim", mention_id)
    [told] = slack.ephemerals
    assert (told["user"], told["text"]) == ("U01ANNA", "Already claimed by <@U03CARLA>.")
    assert len(slack.calls_to("chat.postMessage")) == 1


async def test_double_click_claims_once(app, slack):
    mention_id = await one_mention(app)
    await asyncio.gather(*(post_interaction(app, block_action("U03CARLA", "webcare.claim", str(mention_id)))
                           for _ in range(2)))
    await settle_slack(app)
    from tests.support import context_of
    async with context_of(app).db.uow() as uow:
        audits = await uow.audit.for_mention(mention_id)
    assert [a.action for a in audits].count("claim") == 1
    assert [e["text"] for e in slack.ephemerals] == ["You have already claimed this mention."]


async def test_only_the_claimant_or_a_lead_may_unclaim(app, slack):
    mention_id = await one_mention(app)
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    await click(app, "U05EVA", "webcare.more", mention_id, selected_option=f"unclaim:{mention_id}")
    assert slack.ephemerals[-1]["text"] == "Only Carla Smit or a webcare lead can unclaim this mention."
    await click(app, "U01ANNA", "webcare.more", mention_id, selected_option=f"unclaim:{mention_id}")
    assert ":new: *New*" in text_of(card_of(slack, mention_id)["blocks"])


async def test_escalation_modal_then_thread_pings_the_heads(app, slack):
    mention_id = await one_mention(app)
    await click(app, "U03CARLA", "webcare.escalate", mention_id)
    [opened] = slack.calls_to("views.open")
    view = opened["view"] if isinstance(opened["view"], dict) else json.loads(opened["view"])
    assert view["private_metadata"] == str(mention_id)
    assert "Sales" in text_of(view) and "Legal" in text_of(view)

    await submit(app, "U03CARLA", "webcare.escalate_modal", mention_id, {
        "departments": {"type": "multi_static_select", "selected_options": [{"value": "legal"}]},
        "note": {"type": "plain_text_input", "value": "Threatens to sue <!channel>"}})
    [notice] = thread_of(slack, mention_id)
    notice_text = text_of(notice["blocks"])
    assert "<@U04DIRK>" in notice_text and "<@U02BRAM>" in notice_text
    assert "<!channel>" not in notice_text and "&lt;!channel&gt;" in notice_text
    assert "Escalated* to Legal" in text_of(card_of(slack, mention_id)["blocks"])


async def test_reply_on_escalated_mention_needs_a_heads_approval_then_goes_out(app, slack, receiver):
    mention_id = await one_mention(app, reply_via="webhook")
    await submit(app, "U03CARLA", "webcare.escalate_modal", mention_id, {
        "departments": {"type": "multi_static_select", "selected_options": [{"value": "sales"}]}})
    await click(app, "U03CARLA", "webcare.answer", mention_id)
    answer_view = slack.calls_to("views.open")[-1]["view"]
    assert "Bram Jansen" in text_of(answer_view) or "U02BRAM" in text_of(answer_view)

    await submit(app, "U03CARLA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "Sorry Sanne, a courier is on its way."}})
    draft_message = thread_of(slack, mention_id)[-1]
    draft_text = text_of(draft_message["blocks"])
    assert "awaiting <@U02BRAM>" in draft_text and "Approve & send" in draft_text
    assert receiver.received == []

    draft_id = next(e["value"] for b in draft_message["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"] == "webcare.approve")
    await click(app, "U01ANNA", "webcare.approve", draft_id)  # a lead, but not a head of Sales
    assert slack.ephemerals[-1]["text"] == "Only a head of sales can approve this draft."
    await click(app, "U02BRAM", "webcare.approve", draft_id)

    [delivered] = receiver.received
    assert delivered["type"] == "reply.created"
    assert delivered["data"]["text"] == "Sorry Sanne, a courier is on its way."
    assert delivered["data"]["mention"]["source_mention_id"] == "mw:doc:1"
    assert "sent" in text_of(thread_of(slack, mention_id)[-1]["blocks"])
    assert "Answered* by <@U03CARLA> after" in text_of(card_of(slack, mention_id)["blocks"])


async def test_an_approved_reply_without_a_connector_is_answered_by_hand_not_failed(app, slack, receiver):
    mention_id = await one_mention(app)  # no connector for it on this server: replies are posted by hand
    await submit(app, "U03CARLA", "webcare.escalate_modal", mention_id, {
        "departments": {"type": "multi_static_select", "selected_options": [{"value": "sales"}]}})
    await submit(app, "U03CARLA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "Sorry Sanne, a courier is on its way."}})
    draft_id = next(e["value"] for b in thread_of(slack, mention_id)[-1]["blocks"] if b["type"] == "actions"
                    for e in b["elements"] if e["action_id"] == "webcare.approve")
    await click(app, "U02BRAM", "webcare.approve", draft_id)
    await settle(app)

    draft = text_of(thread_of(slack, mention_id)[-1]["blocks"])
    assert "Answered by hand by Carla Smit, approved by <@U02BRAM>" in draft
    assert "not delivered" not in draft and "Retry" not in draft
    assert "Answered* by <@U03CARLA>" in text_of(card_of(slack, mention_id)["blocks"])
    assert receiver.received == []
    assert not [m for m in slack.messages(TRIAGE_CHANNEL) if ":warning:" in m.get("text", "")]  # no failure line


async def test_failed_delivery_shows_the_reason_and_retry_sends_the_same_draft(app, slack, receiver):
    mention_id = await one_mention(app, reply_via="webhook")
    receiver.status = 409
    await submit(app, "U03CARLA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "We'll refund you."}})
    draft_message = thread_of(slack, mention_id)[-1]
    assert "not delivered" in text_of(draft_message["blocks"]) and "409" in text_of(draft_message["blocks"])
    assert "reply not delivered" in text_of(card_of(slack, mention_id)["blocks"])
    retry = next(e for b in draft_message["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert retry["action_id"] == "webcare.retry"

    receiver.status = 202
    await click(app, "U03CARLA", "webcare.retry", retry["value"])
    assert [r["data"]["text"] for r in receiver.received] == ["We'll refund you."]
    assert "not delivered" not in text_of(card_of(slack, mention_id)["blocks"])


async def test_answer_dialog_refusal_shows_inline_and_changes_nothing(app, slack):
    mention_id = await one_mention(app, reply_via="webhook")
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    body = await submit(app, "U05EVA", "webcare.answer_modal", mention_id,
                        {"reply_text": {"type": "plain_text_input", "value": "hi"}})
    assert json.loads(body) == {"response_action": "errors",
                                "errors": {"reply_text": "Cannot answer: Carla Smit has claimed this mention."}}
    await click(app, "U05EVA", "webcare.answer", mention_id)
    assert slack.calls_to("views.open") == []
    assert slack.ephemerals[-1]["text"] == "Cannot answer: Carla Smit has claimed this mention."


async def test_mention_without_connector_is_answered_by_hand(app, slack):
    mention_id = await one_mention(app)
    await click(app, "U03CARLA", "webcare.answer", mention_id)
    assert "by hand" in text_of(slack.calls_to("views.open")[-1]["view"]).lower()
    await submit(app, "U03CARLA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "Replied in the X app: DM sent."}})
    assert "Answered* by <@U03CARLA> after 0 min" in text_of(card_of(slack, mention_id)["blocks"])


async def test_dismiss_with_a_reason(app, slack):
    mention_id = await one_mention(app)
    await click(app, "U03CARLA", "webcare.dismiss", mention_id)
    assert slack.calls_to("views.open")[-1]["view"]["callback_id"] == "webcare.dismiss_modal"
    await submit(app, "U03CARLA", "webcare.dismiss_modal", mention_id,
                 {"reason": {"type": "radio_buttons", "selected_option": {"value": "spam"}}})
    card = text_of(card_of(slack, mention_id)["blocks"])
    assert "Dismissed* by <@U03CARLA>: spam" in card and '"Claim"' not in card


async def test_slash_commands_answer_privately(app, slack):
    mention_id = await one_mention(app, 1)
    other = await one_mention(app, 2)
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    help_text = await (await slash(app, "U03CARLA", "help")).json()
    assert help_text["response_type"] == "ephemeral" and "/webcare mine" in help_text["text"]
    mine = (await (await slash(app, "U03CARLA", "mine")).json())["text"]
    assert f"#{mention_id}>" in mine and "claimed" in mine
    queue = (await (await slash(app, "U03CARLA", "queue")).json())["text"]
    assert queue == ("*1* unclaimed mention; the oldest is 5 min old.\n*First up:*\n"
                     f"• <https://x.com/sannedv/status/19914382736451{other:05d}|#{other}> x @sannedv — P3, 5 min old")
    stats = (await (await slash(app, "U03CARLA", "stats week")).json())["text"]
    assert "2 mentions, 0 answered" in stats and "Answered within 60 min: 0%" in stats
    unknown = (await (await slash(app, "U03CARLA", "dance")).json())["text"]
    assert "Unknown /webcare command" in unknown


async def test_customer_text_never_reaches_slack_as_live_markup(app, slack):
    hostile = "<!channel> <!here> <!everyone> <@U01ANNA> <#C999> <http://evil.example|your refund> *win* & more"
    mention_id = await one_mention(app, text=hostile, author={"handle": "<!here>", "display_name": "<@U02BRAM>",
                                                              "followers": 1})
    await click(app, "U03CARLA", "webcare.claim", mention_id)
    sent = [json.dumps(call) for call in slack.calls_to("chat.postMessage") + slack.calls_to("chat.update")]
    assert sent
    for payload in sent:
        for live in ("<!channel>", "<!here>", "<!everyone>", "<@U01ANNA>", "<@U02BRAM>", "<#C999>",
                     "<http://evil.example"):
            assert live not in payload


async def test_requests_with_a_bad_slack_signature_are_refused(app, slack):
    payload = block_action("U03CARLA", "webcare.claim", "1")
    import urllib.parse
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    headers = slack_headers(body, secret="not-the-signing-secret", content_type="application/x-www-form-urlencoded")
    response = await app.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert slack.calls_to("chat.postEphemeral") == []


async def test_logs_at_debug_contain_no_secret(sqlite_url, slack, receiver, caplog):
    caplog.set_level(logging.DEBUG)
    async with running_app(sqlite_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        mention_id = await one_mention(client, reply_via="webhook")
        await click(client, "U03CARLA", "webcare.claim", mention_id)
        await submit(client, "U03CARLA", "webcare.answer_modal", mention_id,
                     {"reply_text": {"type": "plain_text_input", "value": "On it!"}})
        bad = await client.post("/ingest/v1/mentions", data=b"{}", headers={"webhook-id": "x",
                                "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"})
        assert bad.status == 401
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "chat.postMessage" in logged or "chat_postMessage" in logged or "Sending a request" in logged
    for secret in (SLACK_TOKEN, SLACK_SIGNING_SECRET, INGEST_SECRET, INGEST_SECRET.removeprefix("whsec_"),
                   REPLY_SECRET, REPLY_SECRET.removeprefix("whsec_")):
        assert secret not in logged


async def test_slack_retries_of_an_event_do_nothing_twice(app, slack):
    body = json.dumps({"token": "x", "team_id": "T0123TEAM", "api_app_id": "A0123APP", "type": "event_callback",
                       "event_id": "Ev01", "event_time": 1, "event": {
                           "type": "app_mention", "user": "U03CARLA", "text": "<@U0BOT> hi", "ts": "1.2",
                           "channel": TRIAGE_CHANNEL, "event_ts": "1.2"}})
    first = await app.post("/slack/events", data=body, headers=slack_headers(body, content_type="application/json"))
    retry_headers = {**slack_headers(body, content_type="application/json"), "X-Slack-Retry-Num": "1",
                     "X-Slack-Retry-Reason": "http_timeout"}
    retry = await app.post("/slack/events", data=body, headers=retry_headers)
    assert (first.status, retry.status) == (200, 200)
    for _ in range(50):
        if slack.ephemerals:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert len(slack.ephemerals) == 1 and "/webcare help" in slack.ephemerals[0]["text"]
