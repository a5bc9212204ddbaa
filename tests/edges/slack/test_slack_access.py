"""Edge (Slack wire): only people in webcare.toml act on mentions; anyone else is told privately whom to ask, and
a department head approves their department's drafts but does not take mentions up (unless also on the team)."""

from __future__ import annotations

import pytest

from bot.slack.ids import Action
from tests.edges.slack.test_slack_storm import CONFIG as STORM_CONFIG
from tests.edges.slack.test_slack_storm import buttons, storm_of_three, the_storm_card
from tests.edges.slack.test_slack_wire import card_of, click, one_mention, submit, text_of, thread_of
from tests.support import REPLY_SECRET, TRIAGE_CHANNEL, context_of, relay_of, running_app, slash, team_config

STRANGER = "U0STRANGER"  # a workspace member nobody put in webcare.toml
REFUSAL = "Only the webcare team can act on mentions. Ask Anna de Vries to add you to webcare.toml."
HEAD_REFUSAL = ("As head of Sales and Legal you approve drafts and request changes; claiming, answering, dismissing "
                "and escalating mentions is for the webcare team. Ask Anna de Vries for the webcare role if you "
                "need it.")


@pytest.fixture
async def app(database_url, slack, receiver):
    async with running_app(database_url, slack.url, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as client:
        yield client


async def stored(client, mention_id: int) -> tuple:
    """What the database holds of the mention: state, claimant, version and how many audit rows."""
    async with context_of(client).db.uow() as uow:
        m = await uow.mentions.get(mention_id)
        return m.state, m.claimed_by, m.version, len(await uow.audit.for_mention(mention_id))


def channel_writes(slack) -> tuple[int, int]:
    """Messages posted and messages redrawn in Slack so far."""
    return len(slack.calls_to("chat.postMessage")), len(slack.calls_to("chat.update"))


@pytest.mark.parametrize("action_id", ["webcare.claim", "webcare.answer", "webcare.dismiss", "webcare.escalate"])
async def test_a_strangers_click_is_refused_privately_naming_the_lead_and_changes_nothing(app, slack, action_id):
    mention_id = await one_mention(app)
    before, writes = await stored(app, mention_id), channel_writes(slack)
    await click(app, STRANGER, action_id, mention_id)
    [told] = slack.ephemerals
    assert (told["channel"], told["user"], told["text"]) == (TRIAGE_CHANNEL, STRANGER, REFUSAL)
    assert slack.calls_to("views.open") == []  # no dialog to fill in only to be refused
    await relay_of(app).drain()
    assert await stored(app, mention_id) == before
    assert channel_writes(slack) == writes  # the card is not redrawn, nothing is said in the channel
    assert "Claimed" not in text_of(card_of(slack, mention_id)["blocks"])


async def test_a_stranger_submitting_a_dialog_anyway_is_refused_in_it(app, slack, receiver):
    mention_id = await one_mention(app, reply_via="webhook")
    before = await stored(app, mention_id)
    answer = await submit(app, STRANGER, "webcare.answer_modal", mention_id,
                          {"reply_text": {"type": "plain_text_input", "value": "Hi from outside"}})
    assert "Only the webcare team can act on mentions" in answer and '"response_action": "errors"' in answer
    await relay_of(app).drain()
    assert await stored(app, mention_id) == before and receiver.received == []
    assert thread_of(slack, mention_id) == []


async def test_reading_stays_open_to_a_stranger(app, slack):
    await one_mention(app)
    queue = (await (await slash(app, STRANGER, "queue")).json())["text"]
    assert queue.startswith("*1* unclaimed mention;"), queue


async def test_a_head_cannot_claim_but_approves_a_draft_of_their_department(app, slack, receiver):
    mention_id = await one_mention(app, reply_via="webhook")
    await click(app, "U02BRAM", "webcare.claim", mention_id)
    assert [(e["user"], e["text"]) for e in slack.ephemerals] == [("U02BRAM", HEAD_REFUSAL)]
    assert await stored(app, mention_id) == ("new", None, 0, 1)

    await submit(app, "U03CARLA", "webcare.escalate_modal", mention_id, {
        "departments": {"type": "multi_static_select", "selected_options": [{"value": "sales"}]}})
    await submit(app, "U03CARLA", "webcare.answer_modal", mention_id,
                 {"reply_text": {"type": "plain_text_input", "value": "Sorry Sanne, a courier is on its way."}})
    draft = thread_of(slack, mention_id)[-1]
    draft_id = next(e["value"] for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]
                    if e["action_id"] == Action.APPROVE)
    await click(app, "U02BRAM", Action.REQUEST_CHANGES, draft_id)  # commenting opens its dialog for a head
    assert [v["view"]["callback_id"] for v in slack.calls_to("views.open")][-1] == "webcare.request_changes_modal"
    await click(app, "U02BRAM", Action.APPROVE, draft_id)
    [delivered] = receiver.received
    assert delivered["data"]["text"] == "Sorry Sanne, a courier is on its way."
    assert "Answered* by <@U03CARLA>" in text_of(card_of(slack, mention_id)["blocks"])
    assert len(slack.ephemerals) == 1  # the approval was not refused


async def test_a_head_with_the_webcare_role_claims(database_url, slack):
    config = team_config(dirk={"roles": frozenset({"legal", "webcare"})})
    async with running_app(database_url, slack.url, config=config) as app:
        mention_id = await one_mention(app)
        await click(app, "U04DIRK", "webcare.claim", mention_id)
        await relay_of(app).drain()
        assert slack.ephemerals == []
        assert "Claimed* by <@U04DIRK>" in text_of(card_of(slack, mention_id)["blocks"])
        assert (await stored(app, mention_id))[:2] == ("claimed", "dirk")


@pytest.mark.parametrize("action_id", [Action.STORM_CLAIM, Action.STORM_ANSWER, Action.STORM_DISMISS])
async def test_a_stranger_cannot_take_up_a_storm(database_url, slack, receiver, action_id):
    async with running_app(database_url, slack.url, config=STORM_CONFIG, reply_webhook_url=receiver.url,
                           reply_webhook_secret=REPLY_SECRET) as app:
        await storm_of_three(app)
        card = the_storm_card(slack)
        writes = channel_writes(slack)
        [value] = [value for action, value in buttons(card).values() if action == action_id]
        await click(app, STRANGER, action_id, value)
        [told] = slack.ephemerals
        assert (told["user"], told["text"]) == (STRANGER, REFUSAL)
        assert slack.calls_to("views.open") == []
        await relay_of(app).drain()
        assert channel_writes(slack) == writes and the_storm_card(slack) == card
