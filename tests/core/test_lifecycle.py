"""Core: the lifecycle rules decide who may do what from which state (no I/O)."""

import pytest

from bot.core import mentions as domain
from bot.core.mentions import Actor, AlreadyClaimed, IllegalTransition, MentionFacts, NotAllowed
from bot.core.views import DismissReason, DraftState, MentionState, PersonRef

ANNA = Actor(PersonRef("anna", "Anna de Vries", chat_ids=(("slack", "U01ANNA"),)),
             frozenset({"webcare", "webcare-lead"}))
CARLA = Actor(PersonRef("carla", "Carla Smit", chat_ids=(("slack", "U03CARLA"),)), frozenset({"webcare"}))
EVA = Actor(PersonRef("slack:U05EVA", "eva", chat_ids=(("slack", "U05EVA"),)))
BRAM = Actor(PersonRef("bram", "Bram Jansen"), frozenset({"corporate-communications"}))
DIRK = Actor(PersonRef("dirk", "Dirk Bakker"), frozenset({"legal"}))


def facts(state=MentionState.NEW, claimed_by=None, escalated_to=(), reply_via="webhook"):
    return MentionFacts(id=1, state=state, claimed_by=claimed_by.ref if claimed_by else None,
                        escalated_to=escalated_to, reply_via=reply_via)


def test_claim_takes_a_new_mention():
    decided = domain.claim(facts(), CARLA)
    assert decided.to_state == MentionState.CLAIMED
    assert decided.changes["claimed_by"] == "carla"


def test_second_claimant_is_told_who_has_it():
    with pytest.raises(AlreadyClaimed) as refused:
        domain.claim(facts(MentionState.CLAIMED, claimed_by=CARLA), EVA)
    assert refused.value.user_message == "Already claimed by Carla Smit."


def test_claiming_an_escalated_mention_keeps_it_escalated():
    decided = domain.claim(facts(MentionState.ESCALATED, escalated_to=("sales",)), CARLA)
    assert decided.to_state == MentionState.ESCALATED


@pytest.mark.parametrize("state", [MentionState.ANSWERED, MentionState.CLOSED, MentionState.DISMISSED,
                                   MentionState.AWAITING_APPROVAL])
def test_finished_or_waiting_mentions_cannot_be_claimed(state):
    with pytest.raises(IllegalTransition, match="Cannot claim"):
        domain.claim(facts(state), CARLA)


def test_only_the_claimant_or_a_lead_may_unclaim():
    held = facts(MentionState.CLAIMED, claimed_by=CARLA)
    with pytest.raises(NotAllowed, match="Only Carla Smit or a webcare lead"):
        domain.unclaim(held, EVA)
    assert domain.unclaim(held, CARLA).to_state == MentionState.NEW
    assert domain.unclaim(held, ANNA).changes["claimed_by"] is None


def test_someone_else_cannot_answer_a_claimed_mention_but_a_lead_can():
    held = facts(MentionState.CLAIMED, claimed_by=CARLA)
    with pytest.raises(NotAllowed, match="Carla Smit has claimed"):
        domain.submit_reply(held, EVA)
    decided, draft_state = domain.submit_reply(held, ANNA)
    assert decided.to_state == MentionState.ANSWERED and draft_state == DraftState.SENDING


def test_answering_an_unclaimed_mention_claims_it():
    decided, _ = domain.submit_reply(facts(), EVA)
    assert decided.changes["claimed_by"] == "slack:U05EVA"


def test_escalated_reply_waits_for_approval_and_unconnected_reply_is_by_hand():
    _, state = domain.submit_reply(facts(MentionState.ESCALATED, escalated_to=("sales",)), CARLA)
    assert state == DraftState.AWAITING_APPROVAL
    decided, state = domain.submit_reply(facts(reply_via=None), CARLA)
    assert state == DraftState.BY_HAND and decided.to_state == MentionState.ANSWERED


def test_escalation_needs_known_departments():
    with pytest.raises(domain.DomainError, match="Unknown department: finance"):
        domain.escalate(facts(), CARLA, ("finance",), {"sales"})
    with pytest.raises(domain.DomainError, match="at least one"):
        domain.escalate(facts(), CARLA, (), {"sales"})
    decided = domain.escalate(facts(MentionState.ESCALATED, escalated_to=("sales",)), CARLA, ("legal", "sales"),
                              {"sales", "legal"})
    assert decided.changes["escalated_to"] == ["sales", "legal"]


def test_only_a_head_of_an_escalated_department_approves_and_never_their_own_draft():
    waiting = facts(MentionState.AWAITING_APPROVAL, claimed_by=CARLA, escalated_to=("legal",))
    heads = {"dirk", "bram"}
    with pytest.raises(NotAllowed, match="Only a head of legal"):
        domain.approve(waiting, ANNA, "carla", DraftState.AWAITING_APPROVAL, heads)
    with pytest.raises(NotAllowed, match="Four eyes"):
        domain.approve(waiting, DIRK, "dirk", DraftState.AWAITING_APPROVAL, heads)
    assert domain.approve(waiting, DIRK, "carla", DraftState.AWAITING_APPROVAL, heads).to_state == MentionState.ANSWERED


def test_a_decided_draft_cannot_be_approved_again():
    answered = facts(MentionState.ANSWERED, claimed_by=CARLA, escalated_to=("legal",))
    with pytest.raises(IllegalTransition, match="no longer waiting"):
        domain.approve(answered, DIRK, "carla", DraftState.SENDING, {"dirk"})


def test_request_changes_sends_the_mention_back_to_escalated():
    waiting = facts(MentionState.AWAITING_APPROVAL, claimed_by=CARLA, escalated_to=("sales",))
    decided = domain.request_changes(waiting, BRAM, "carla", DraftState.AWAITING_APPROVAL, {"bram"}, "softer tone")
    assert decided.to_state == MentionState.ESCALATED and decided.detail == "softer tone"


def test_dismiss_records_the_reason_and_reopen_clears_the_claim():
    decided = domain.dismiss(facts(), CARLA, DismissReason.SPAM)
    assert decided.to_state == MentionState.DISMISSED and decided.changes["dismissed_reason"] == "spam"
    reopened = domain.reopen(facts(MentionState.DISMISSED, claimed_by=CARLA), EVA)
    assert reopened.to_state == MentionState.NEW and reopened.changes["claimed_by"] is None
    with pytest.raises(IllegalTransition, match="Cannot reopen: this mention is new"):
        domain.reopen(facts(), EVA)


def test_close_only_after_an_answer():
    with pytest.raises(IllegalTransition, match="Cannot close"):
        domain.close(facts(MentionState.CLAIMED, claimed_by=CARLA), CARLA)
    assert domain.close(facts(MentionState.ANSWERED), CARLA).to_state == MentionState.CLOSED
