"""Core: a failed delivery opens its mention again, held as before; Retry sends it once, if nothing changed since."""

import pytest

from bot.core import mentions as domain
from bot.core.mentions import Actor, IllegalTransition, MentionFacts, NotAllowed
from bot.core.views import DraftState, MentionState, PersonRef

ANNA = Actor(PersonRef("anna", "Anna de Vries"), frozenset({"webcare", "webcare-lead"}))
CARLA = Actor(PersonRef("carla", "Carla Smit"), frozenset({"webcare"}))
EVA = Actor(PersonRef("eva", "Eva Hendriks"), frozenset({"webcare"}))


def facts(state: MentionState, claimed_by: Actor | None = CARLA, escalated_to: tuple[str, ...] = ()) -> MentionFacts:
    return MentionFacts(id=1, state=state, claimed_by=claimed_by.ref if claimed_by else None,
                        escalated_to=escalated_to, reply_via="webhook")


@pytest.mark.parametrize(("state", "claimed_by", "escalated_to", "open_again"), [
    (MentionState.ANSWERED, CARLA, (), MentionState.CLAIMED),
    (MentionState.CLOSED, CARLA, (), MentionState.CLAIMED),  # closed while the reply was on its way
    (MentionState.ANSWERED, CARLA, ("legal",), MentionState.ESCALATED),  # an approved draft: still escalated
    (MentionState.ANSWERED, None, (), MentionState.NEW),
])
def test_a_failed_delivery_opens_the_mention_again_held_as_before(state, claimed_by, escalated_to, open_again):
    decided = domain.delivery_failed(facts(state, claimed_by, escalated_to), "HTTP 409")
    assert (decided.action, decided.to_state, decided.changes, decided.detail) == \
        ("reply_failed", open_again, {}, "HTTP 409")


def test_a_mention_reopened_meanwhile_keeps_its_state_and_the_failure_is_noted():
    decided = domain.delivery_failed(facts(MentionState.NEW, None), "HTTP 409")
    assert (decided.to_state, decided.detail) == (MentionState.NEW, "HTTP 409")


@pytest.mark.parametrize("actor", [CARLA, ANNA])
def test_the_claimant_or_a_lead_retries_and_the_mention_counts_as_answered_again(actor):
    decided = domain.retry_delivery(facts(MentionState.CLAIMED), actor, DraftState.FAILED, approved=False,
                                    needs_approval=False)
    assert (decided.action, decided.to_state, decided.changes) == ("retry_delivery", MentionState.ANSWERED, {})


@pytest.mark.parametrize(("state", "draft", "refusal"), [
    (MentionState.CLAIMED, DraftState.SENDING, "This reply is already on its way."),
    (MentionState.ANSWERED, DraftState.SENT, "Only a failed delivery can be retried."),
    (MentionState.ANSWERED, DraftState.FAILED, "Cannot retry the reply: this mention is already answered."),
    (MentionState.DISMISSED, DraftState.FAILED, "Cannot retry the reply: this mention is dismissed."),
])
def test_retry_is_refused_once_the_reply_is_on_its_way_or_the_mention_moved_on(state, draft, refusal):
    with pytest.raises(IllegalTransition) as refused:
        domain.retry_delivery(facts(state), CARLA, draft, approved=False, needs_approval=False)
    assert refused.value.user_message == refusal


def test_someone_else_may_not_retry_a_claimed_mention():
    with pytest.raises(NotAllowed, match="Carla Smit has claimed this mention"):
        domain.retry_delivery(facts(MentionState.CLAIMED), EVA, DraftState.FAILED, approved=False,
                              needs_approval=False)


def test_a_reply_escalated_after_it_failed_is_not_sent_without_approval():
    escalated = facts(MentionState.ESCALATED, escalated_to=("legal",))
    with pytest.raises(IllegalTransition, match="needs approval"):
        domain.retry_delivery(escalated, CARLA, DraftState.FAILED, approved=False, needs_approval=True)
    decided = domain.retry_delivery(escalated, CARLA, DraftState.FAILED, approved=True, needs_approval=True)
    assert decided.to_state == MentionState.ANSWERED
