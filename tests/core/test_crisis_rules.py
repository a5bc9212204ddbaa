"""Core: the crisis rules (docs/contract.md §7) enforce step order, owners, the reply gate, reminders and ending."""

import shutil
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core.crisis import rules as crisis
from bot.core.crisis.playbooks import load_playbooks, parse_playbook
from bot.core.crisis.rules import LEAD, OWNER, UnknownStep
from bot.core.mentions import Actor, DomainError, IllegalTransition, NotAllowed
from bot.core.views import PersonRef

ROOT = Path(__file__).parents[2]
CONFIG = load_config(ROOT / "webcare.example.toml")
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

ANNA = Actor(PersonRef("anna", "Anna de Vries"), frozenset({"webcare", "webcare-lead", "crisis-lead"}))
BRAM = Actor(PersonRef("bram", "Bram Jansen"), frozenset({"corporate-communications", "crisis-lead"}))
CARLA = Actor(PersonRef("carla", "Carla Smit"), frozenset({"webcare"}))
HANNA = Actor(PersonRef("hanna", "Hanna Peters"), frozenset({"complaints", "it-operations"}))
EVA = Actor(PersonRef("eva", "Eva Hendriks"), frozenset({"customer-service"}))
GIJS = Actor(PersonRef("gijs", "Gijs Mulder"), frozenset({"sales"}))

CONFIRM = "confirm-the-outage-with-it"
PAUSE = "pause-scheduled-posts-and-campaigns"
HOLDING = "approve-the-holding-statement"
BRIEF = "brief-customer-service"
ACCOUNTS = "inform-key-business-accounts"
UPDATES = "post-updates-at-the-promised-times"
ALL_CLEAR = "post-the-all-clear"
REVIEW = "review-the-outage"
WHO_DOES = {CONFIRM: HANNA, PAUSE: CARLA, HOLDING: BRAM, BRIEF: EVA, UPDATES: CARLA, ALL_CLEAR: ANNA}


def load(directory: Path, key: str = "service-outage"):
    playbooks, problems = load_playbooks(directory, CONFIG)
    assert problems == []
    return next(p for p in playbooks if p.key == key)


@pytest.fixture(scope="module")
def outage():
    return load(ROOT / "playbooks")


def started(playbook, *, drill=False):
    return crisis.start(playbook, ANNA, T0, drill=drill)


def through(state, *step_ids):
    for step_id in step_ids:
        state = crisis.complete_step(state, WHO_DOES[step_id], step_id, None, T0 + timedelta(minutes=5))
    return state


def inline(reply_policy: str, lead_role: str = "crisis-lead"):
    text = f"""---
title: Test
severity: low
reply_policy: {reply_policy}
lead_role: {lead_role}
---
# Test

## Check
- owner: webcare
- due: 10m

## Statement
- owner: corporate-communications
- unlocks: replies

> We are on it.
"""
    playbook, problems = parse_playbook("test.md", text)
    assert problems == []
    return crisis.start(playbook, ANNA, T0)


# -- steps: order and owners --------------------------------------------------------------------------------------


def test_starting_records_who_and_when_and_nothing_done(outage):
    state = started(outage)

    assert (state.started_by, state.started_at, state.drill, state.running) == ("anna", T0, False, True)
    assert dict(state.done) == {} and dict(state.skipped) == {}


def test_owner_completes_the_first_step_with_a_note(outage):
    later = T0 + timedelta(minutes=4)
    state = crisis.complete_step(started(outage), HANNA, CONFIRM, "  app down, web fine ", later)

    assert state.done[CONFIRM] == ("hanna", later, "app down, web fine")
    assert state.done[CONFIRM].by == "hanna"


def test_completing_returns_a_new_state_and_leaves_the_old_one_alone(outage):
    before = started(outage)
    after = crisis.complete_step(before, HANNA, CONFIRM, None, T0)

    assert CONFIRM not in before.done and CONFIRM in after.done
    with pytest.raises(TypeError):
        after.done["x"] = None  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        after.drill = True  # type: ignore[misc]


def test_a_step_waits_for_every_earlier_required_step(outage):
    with pytest.raises(IllegalTransition) as refused:
        crisis.complete_step(started(outage), BRAM, HOLDING, None, T0)

    assert refused.value.user_message == (
        "Cannot complete “Approve the holding statement” yet — first: Confirm the outage with IT "
        "(owner: it-operations); Pause scheduled posts and campaigns (owner: webcare).")


def test_an_open_optional_step_does_not_block_later_steps(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING, BRIEF)
    assert ACCOUNTS not in state.done

    state = crisis.complete_step(state, CARLA, UPDATES, None, T0)

    assert UPDATES in state.done


def test_only_the_owner_role_or_the_lead_completes_a_step(outage):
    with pytest.raises(NotAllowed) as refused:
        crisis.complete_step(started(outage), CARLA, CONFIRM, None, T0)
    assert refused.value.user_message == (
        "Only a member of it-operations or a member of crisis-lead can complete “Confirm the outage with IT”.")

    by_lead = crisis.complete_step(started(outage), ANNA, CONFIRM, "called IT myself", T0)
    assert by_lead.done[CONFIRM].by == "anna"


def test_a_done_step_cannot_be_done_again(outage):
    state = through(started(outage), CONFIRM)

    with pytest.raises(IllegalTransition, match="already done") as refused:
        crisis.complete_step(state, ANNA, CONFIRM, None, T0)
    assert "hanna" in refused.value.user_message


def test_a_skipped_step_cannot_be_completed(outage):
    state = crisis.skip_step(started(outage), ANNA, ACCOUNTS, "only consumers affected", T0)

    with pytest.raises(IllegalTransition, match="was skipped: only consumers affected"):
        crisis.complete_step(state, GIJS, ACCOUNTS, None, T0)


def test_unknown_step_names_get_the_closest_ids(outage):
    with pytest.raises(UnknownStep) as refused:
        crisis.complete_step(started(outage), HANNA, "confirm-outage", None, T0)

    assert refused.value.suggestions[0] == CONFIRM
    assert "There is no step 'confirm-outage' in “Service outage”. Did you mean: confirm-the-outage-with-it" in (
        refused.value.user_message)
    assert isinstance(refused.value, DomainError)


def test_unknown_step_with_nothing_close_lists_the_steps(outage):
    with pytest.raises(UnknownStep) as refused:
        crisis.complete_step(started(outage), HANNA, "xyzzy", None, T0)

    assert refused.value.suggestions == ()
    assert f"Its steps are: {CONFIRM}, {PAUSE}" in refused.value.user_message


def test_a_step_may_be_named_by_its_heading(outage):
    state = crisis.complete_step(started(outage), HANNA, "Confirm the outage with IT", None, T0)

    assert CONFIRM in state.done


# -- skipping ------------------------------------------------------------------------------------------------------


def test_the_lead_skips_an_optional_step_with_a_reason(outage):
    at = T0 + timedelta(minutes=20)
    state = crisis.skip_step(started(outage), ANNA, ACCOUNTS, " only consumers affected ", at)

    assert state.skipped[ACCOUNTS] == ("anna", at, "only consumers affected")
    assert ACCOUNTS not in state.done


def test_only_the_lead_skips(outage):
    with pytest.raises(NotAllowed, match="Only a member of crisis-lead can skip a step."):
        crisis.skip_step(started(outage), GIJS, ACCOUNTS, "not needed", T0)


def test_a_required_step_cannot_be_skipped_even_by_the_lead(outage):
    with pytest.raises(IllegalTransition, match="“Confirm the outage with IT” is required and cannot be skipped"):
        crisis.skip_step(started(outage), ANNA, CONFIRM, "obvious", T0)


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_skipping_needs_a_reason(outage, reason):
    with pytest.raises(DomainError, match="Give a reason for skipping “Inform key business accounts”."):
        crisis.skip_step(started(outage), ANNA, ACCOUNTS, reason, T0)


# -- replies -------------------------------------------------------------------------------------------------------


def test_replies_wait_for_the_unlocking_step_and_name_it(outage):
    state = through(started(outage), CONFIRM, PAUSE)

    refusal = crisis.may_reply(state)

    assert isinstance(refusal, NotAllowed)
    assert refusal.user_message == (
        "Replies about this crisis wait for “Approve the holding statement” (owner: corporate-communications).")
    assert crisis.needs_approval(state) is False


def test_after_the_unlocking_step_the_approval_policy_applies(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING)

    assert crisis.may_reply(state) is None
    assert crisis.needs_approval(state) is True


def test_open_policy_allows_replies_once_unlocked():
    state = inline("open")
    assert crisis.may_reply(state) is not None

    state = through_inline(state)

    assert crisis.may_reply(state) is None
    assert crisis.needs_approval(state) is False


def test_hold_policy_refuses_replies_even_once_unlocked():
    state = through_inline(inline("hold"))

    refusal = crisis.may_reply(state)

    assert isinstance(refusal, NotAllowed)
    assert refusal.user_message == "Replies are on hold for this crisis."
    assert crisis.needs_approval(state) is False


def test_approval_policy_on_an_inline_playbook():
    state = through_inline(inline("approval"))

    assert crisis.may_reply(state) is None
    assert crisis.needs_approval(state) is True


def through_inline(state):
    state = crisis.complete_step(state, CARLA, "check", None, T0)
    return crisis.complete_step(state, BRAM, "statement", None, T0)


def test_four_eyes_a_second_lead_approves_never_the_author(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING)

    assert crisis.approval_refusal(state, BRAM, author_key="anna") is None
    assert isinstance(crisis.approval_refusal(state, ANNA, author_key="anna"), NotAllowed)
    assert crisis.approval_refusal(state, ANNA, "anna").user_message == (
        "Four eyes: you wrote this reply, so another member of crisis-lead must approve it.")


def test_approvers_must_hold_the_lead_role(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING)

    assert isinstance(crisis.approval_refusal(state, CARLA, author_key="eva"), NotAllowed)
    assert crisis.approval_refusal(state, EVA, "carla").user_message == (
        "Only a member of crisis-lead can approve replies about this crisis.")


def test_the_lead_role_comes_from_the_playbook():
    state = through_inline(inline("approval", lead_role="webcare-lead"))

    assert crisis.is_lead(state, ANNA) and not crisis.is_lead(state, BRAM)
    assert isinstance(crisis.approval_refusal(state, BRAM, author_key="carla"), NotAllowed)
    assert crisis.approval_refusal(state, ANNA, author_key="carla") is None


def test_an_ended_crisis_no_longer_gates_replies(outage):
    state = crisis.end(started(outage), ANNA, T0, force_reason="false alarm: a bank's problem")

    assert crisis.may_reply(state) is None
    assert crisis.needs_approval(state) is False


# -- drills --------------------------------------------------------------------------------------------------------


def test_a_drill_never_gates_replies_but_enforces_its_steps(outage):
    drill = started(outage, drill=True)

    assert crisis.may_reply(drill) is None
    assert crisis.needs_approval(drill) is False
    with pytest.raises(IllegalTransition, match="first: Confirm the outage with IT"):
        crisis.complete_step(drill, BRAM, HOLDING, None, T0)


def test_a_drill_beside_a_real_crisis_changes_nothing_for_the_real_one(outage):
    real, drill = started(outage), started(outage, drill=True)

    drill = through(drill, CONFIRM, PAUSE, HOLDING)

    assert crisis.may_reply(real) is not None
    assert dict(real.done) == {}
    assert crisis.templates_available(real) == []


# -- reminders -----------------------------------------------------------------------------------------------------


def test_nothing_is_overdue_before_its_due_time(outage):
    assert crisis.overdue(started(outage), T0 + timedelta(minutes=10)) == []


def test_overdue_steps_remind_the_owner_then_the_lead(outage):
    state = started(outage)

    at_12 = crisis.overdue(state, T0 + timedelta(minutes=12))
    at_25 = crisis.overdue(state, T0 + timedelta(minutes=25))

    assert [(o.step.id, o.level) for o in at_12] == [(CONFIRM, OWNER)]
    assert [(o.step.id, o.level) for o in at_25] == [(CONFIRM, LEAD), (PAUSE, OWNER)]


def test_done_and_optional_steps_are_never_overdue(outage):
    state = crisis.skip_step(through(started(outage), CONFIRM, PAUSE, HOLDING, BRIEF), ANNA, ACCOUNTS, "n/a", T0)

    late = crisis.overdue(state, T0 + timedelta(days=30))

    assert [(o.step.id, o.level) for o in late] == [(UPDATES, LEAD), (ALL_CLEAR, LEAD)]
    assert REVIEW not in [o.step.id for o in crisis.overdue(started(outage), T0 + timedelta(days=30))]


def test_an_ended_crisis_has_nothing_overdue(outage):
    state = crisis.end(started(outage), ANNA, T0, force_reason="not our outage")

    assert crisis.overdue(state, T0 + timedelta(days=2)) == []


# -- ending --------------------------------------------------------------------------------------------------------


def test_the_crisis_ends_when_all_required_steps_are_done(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING, BRIEF, UPDATES, ALL_CLEAR)
    at = T0 + timedelta(hours=5)

    ended = crisis.end(state, CARLA, at)

    assert (ended.running, ended.ended_at, ended.ended_by, ended.forced_reason) == (False, at, "carla", None)


def test_the_lead_forces_an_early_end_with_a_reason(outage):
    ended = crisis.end(through(started(outage), CONFIRM), ANNA, T0, force_reason="  a bank's problem, not ours ")

    assert (ended.running, ended.ended_by, ended.forced_reason) == (False, "anna", "a bank's problem, not ours")


def test_the_lead_cannot_end_early_without_a_reason(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING, BRIEF, UPDATES)

    with pytest.raises(DomainError) as refused:
        crisis.end(state, ANNA, T0)

    assert refused.value.user_message == (
        "Still open: Post the all-clear (owner: webcare-lead). Give a reason to end the crisis anyway.")


def test_others_cannot_end_early_and_are_told_what_is_missing(outage):
    state = through(started(outage), CONFIRM, PAUSE, HOLDING, BRIEF)

    with pytest.raises(NotAllowed) as refused:
        crisis.end(state, CARLA, T0, force_reason="I am done")

    assert refused.value.user_message == (
        "The crisis cannot end yet; still open: Post updates at the promised times (owner: webcare); "
        "Post the all-clear (owner: webcare-lead). Only a member of crisis-lead can end it early.")


def test_an_ended_crisis_refuses_everything(outage):
    ended = crisis.end(started(outage), ANNA, T0, force_reason="drill over")

    with pytest.raises(IllegalTransition, match="this crisis has ended"):
        crisis.complete_step(ended, HANNA, CONFIRM, None, T0)
    with pytest.raises(IllegalTransition, match="this crisis has ended"):
        crisis.skip_step(ended, ANNA, ACCOUNTS, "n/a", T0)
    with pytest.raises(IllegalTransition, match="already ended"):
        crisis.end(ended, ANNA, T0, force_reason="again")


# -- templates and the frozen playbook -----------------------------------------------------------------------------


def test_holding_statements_are_offered_once_their_step_is_done(outage):
    before = through(started(outage), CONFIRM, PAUSE)
    after = through(before, HOLDING)

    assert crisis.templates_available(before) == []
    assert [t[:40] for t in crisis.templates_available(after)] == [
        "Er is op dit moment een storing bij {ser", "There is currently an outage affecting {"]


def test_editing_the_playbook_file_changes_nothing_for_a_running_crisis(tmp_path):
    path = tmp_path / "service-outage.md"
    shutil.copy(ROOT / "playbooks" / "service-outage.md", path)
    state = through(started(load(tmp_path)), CONFIRM)

    text = path.read_text(encoding="utf-8")
    text = text.replace("- owner: webcare\n- due: 15m", "- owner: sales\n- due: 15m\n- optional: true")
    text = text.replace("reply_policy: approval", "reply_policy: open")
    path.write_text(text, encoding="utf-8")
    edited = load(tmp_path)
    assert edited.step(PAUSE).owner == "sales" and edited.reply_policy == "open"

    with pytest.raises(NotAllowed):
        crisis.complete_step(state, GIJS, PAUSE, None, T0)
    with pytest.raises(IllegalTransition, match="first: Pause scheduled posts"):
        crisis.complete_step(state, BRAM, HOLDING, None, T0)
    state = through(state, PAUSE, HOLDING)
    assert crisis.needs_approval(state) is True
    assert state.playbook.version != edited.version


def test_the_state_holds_a_frozen_playbook(outage):
    state = started(outage)

    with pytest.raises(FrozenInstanceError):
        state.playbook.reply_policy = "open"  # type: ignore[misc]
    assert replace(state, drill=True).playbook is outage
