"""Core: the words for mention, draft and crisis-step states come from the catalogue; renderers only style the names."""

import ast
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core import wording
from bot.core.catalogue import words
from bot.core.crisis.views import StepStatus, StepView
from bot.core.views import (
    CardView,
    CrisisTag,
    DepartmentView,
    DismissReason,
    DraftState,
    DraftView,
    EscalationNotice,
    MentionState,
    PersonRef,
)
from bot.core.wording import Style

ROOT = Path(__file__).parents[2]
EN, NL = words("en"), words("nl")
NOW = datetime(2026, 11, 20, 10, 12, tzinfo=UTC)
ANN, BOB, CY = PersonRef("ann", "Ann"), PersonRef("bob", "Bob"), PersonRef("cy", "Cy")
LEGAL, PR = DepartmentView("legal", "Legal", (BOB,)), DepartmentView("pr", "PR", ())
# Each styler marks what it wrote: a name outside a mark is one the words spelled themselves.
MARKED = Style(person=lambda p: f"<p:{p.key}>", name=lambda p: f"<n:{p.key}>", department=lambda d: f"<d:{d.key}>",
               text=lambda t: f"<t:{t}>")
UNSTYLED = ("Ann", "Bob", "Cy", "Legal", "timeout")
# Words only a state says: a renderer that spells one of them has a second copy a translation would miss.
STATE_WORDS = ("Awaiting approval", "nobody has claimed it yet", "waiting for", "a department head",
               "Changes requested by", "on the draft by", "to be posted by hand", "not delivered",
               "Answered by hand by", "approved by", "nobody holds this role")

DRAFT = DraftView(id=7, mention_id=42, author=ANN, text="Sorry, we are on it.", state=DraftState.AWAITING_APPROVAL,
                  approvers=(BOB, CY), decided_by=BOB)
CARD = CardView(mention_id=42, network="x", url=None, author_handle="sannedv", author_name="Sanne", author_url=None,
                author_followers=None, author_verified=False, text="where is my order", published_at=NOW,
                state=MentionState.NEW, now=NOW, claimed_by=ANN, escalated_to=(LEGAL,), draft=DRAFT,
                answered_by=CY, response_minutes=4, dismissed_by=CY, dismissed_reason=DismissReason.SPAM)


def status_text(status: wording.StatusLine) -> str:
    return " · ".join([status.label + status.detail, *status.parts, *([status.warning] if status.warning else [])])


@pytest.mark.parametrize(("state", "label", "detail"), [
    (MentionState.NEW, "New", " — nobody has claimed it yet"),
    (MentionState.CLAIMED, "Claimed", " by <p:ann>"),
    (MentionState.ESCALATED, "Escalated", " to <d:legal>"),
    (MentionState.AWAITING_APPROVAL, "Awaiting approval", " — draft by <p:ann> waiting for <p:bob>, <p:cy>"),
    (MentionState.ANSWERED, "Answered", " by <p:cy> after 4 min"),
    (MentionState.CLOSED, "Closed", " — answered by <p:cy> after 4 min"),
    (MentionState.DISMISSED, "Dismissed", " by <p:cy>: spam"),
])
def test_each_mention_state_has_a_label_and_a_phrase(state, label, detail):
    status = wording.mention_status(EN, replace(CARD, state=state), MARKED)
    assert (status.label, status.detail) == (label, detail)
    assert wording.mention_state_name(EN, state) == label.lower()


def test_the_status_goes_on_with_who_holds_it_where_it_went_and_a_failed_reply():
    failed = replace(DRAFT, state=DraftState.FAILED, error="timeout")
    status = wording.mention_status(EN, replace(CARD, state=MentionState.AWAITING_APPROVAL, draft=failed), MARKED)
    assert status.parts == ("claimed by <p:ann>", "escalated to <d:legal>")
    assert status.warning == "reply not delivered: <t:timeout>"


@pytest.mark.parametrize(("state", "headline"), [
    (DraftState.AWAITING_APPROVAL, "Draft by <n:ann> awaiting <p:bob>, <p:cy>:"),
    (DraftState.CHANGES_REQUESTED, "Changes requested by <p:bob> on the draft by <n:ann>"),
    (DraftState.SENDING, "Reply by <n:ann>, approved by <p:bob>, sending…"),
    (DraftState.SENT, "Reply by <n:ann>, approved by <p:bob>, sent"),
    (DraftState.FAILED, "Reply by <n:ann>, approved by <p:bob>, not delivered"),
    (DraftState.BY_HAND, "Answered by hand by <n:ann>, approved by <p:bob>:"),
])
def test_each_draft_state_has_a_headline_naming_the_author_without_a_ping(state, headline):
    assert wording.draft_headline(EN, replace(DRAFT, state=state), MARKED) == headline


@pytest.mark.parametrize("state", list(MentionState))
def test_every_person_and_department_on_a_card_goes_through_the_renderers_styler(state):
    failed = replace(DRAFT, state=DraftState.FAILED, error="timeout")
    text = status_text(wording.mention_status(EN, replace(CARD, state=state, draft=failed), MARKED))
    assert not [word for word in UNSTYLED if word in re.sub(r"<[pndt]:[^>]*>", "", text)]


@pytest.mark.parametrize("state", list(DraftState))
def test_every_person_on_a_draft_goes_through_the_renderers_styler(state):
    text = wording.draft_headline(EN, replace(DRAFT, state=state, manual=True), MARKED)
    assert not [word for word in UNSTYLED if word in re.sub(r"<[pndt]:[^>]*>", "", text)]


def test_words_for_what_is_missing_come_from_the_table_too():
    nobody = replace(DRAFT, approvers=(), decided_by=None, manual=True)
    awaiting = wording.draft_headline(EN, nobody, MARKED)
    assert awaiting == "Draft by <n:ann> awaiting a department head (to be posted by hand):"
    changes = replace(nobody, state=DraftState.CHANGES_REQUESTED)
    assert wording.draft_headline(EN, changes, MARKED) == "Changes requested by an approver on the draft by <n:ann>"
    assert wording.delivery_error(EN, replace(DRAFT, state=DraftState.FAILED)) == "unknown error"
    anonymous = replace(CARD, author_handle=None, author_name=None, state=MentionState.AWAITING_APPROVAL)
    assert wording.card_summary(EN, anonymous) == "X mention by someone (awaiting approval)"
    assert wording.card_summary(EN, CARD, lambda who: who.upper()) == "X mention by @SANNEDV (new)"


def test_an_escalation_names_each_department_with_its_heads():
    notice = EscalationNotice(mention_id=42, actor=ANN, departments=(LEGAL, PR), note=None)
    assert wording.escalation_headline(EN, notice, MARKED) == "<n:ann> escalated to <d:legal> (<p:bob>), <d:pr>"
    nowhere = replace(notice, departments=())
    assert wording.escalation_headline(EN, nowhere, MARKED) == "<n:ann> escalated to no department"


@pytest.mark.parametrize(("status", "outcome"), [(StepStatus.DONE, "Done by <p:bob>"),
                                                 (StepStatus.SKIPPED, "Skipped by <p:bob>")])
def test_a_closed_crisis_step_says_who_closed_it(status, outcome):
    step = StepView(id="hold", title="Hold replies", owner_role="comms", owners=(), status=status, optional=True,
                    unlocks_replies=False, by=BOB, at=NOW)
    assert wording.step_outcome(EN, step, MARKED.person) == outcome


def test_crisis_words_name_the_crisis_its_links_and_who_holds_a_role():
    assert wording.crisis_name(EN, CrisisTag(3, "Outage", drill=False)) == "Crisis #3: Outage"
    assert wording.crisis_name(EN, CrisisTag(4, "Outage", drill=True), str.upper) == "Drill #4: OUTAGE"
    assert [wording.linked_mentions(EN, n) for n in (0, 1, 2)] == ["0 linked mentions", "1 linked mention",
                                                               "2 linked mentions"]
    assert wording.role_holders(EN, (ANN, BOB), MARKED.person) == "<p:ann>, <p:bob>"
    assert wording.role_holders(EN, (), MARKED.person) == "nobody holds this role"


@pytest.mark.parametrize(("state", "dutch"), [
    (MentionState.NEW, "Nieuw — nog niemand heeft hem opgepakt"),
    (MentionState.CLAIMED, "Opgepakt door <p:ann>"),
    (MentionState.AWAITING_APPROVAL, "Wacht op akkoord — concept van <p:ann> wacht op <p:bob>, <p:cy>"),
    (MentionState.CLOSED, "Gesloten — beantwoord door <p:cy> na 4 min"),
    (MentionState.DISMISSED, "Genegeerd door <p:cy>: spam"),
])
def test_a_dutch_team_reads_where_a_mention_stands_in_dutch(state, dutch):
    status = wording.mention_status(NL, replace(CARD, state=state), MARKED)
    assert status.label + status.detail == dutch


def test_a_dutch_team_reads_drafts_counts_and_ages_in_dutch():
    sent = replace(DRAFT, state=DraftState.SENT)
    assert wording.draft_headline(NL, sent, MARKED) == "Antwoord van <n:ann>, goedgekeurd door <p:bob>, verstuurd"
    assert wording.followers(NL, 12_345) == "12.345 volgers" and wording.followers(EN, 1) == "1 follower"
    assert [wording.age(NL, m) for m in (0, 12, 180, 3000)] == ["zojuist", "12 min geleden", "3 u geleden",
                                                                 "2 d geleden"]
    assert wording.dismiss_reason(NL, DismissReason.HANDLED_ELSEWHERE) == "Elders afgehandeld"
    assert wording.crisis_name(NL, CrisisTag(4, "Storing", drill=True)) == "Oefening #4: Storing"


def test_the_answer_dialog_says_where_the_reply_goes_in_the_readers_language():
    english = wording.answer_prompt(EN, "linkedin", "ayrshare", approval=None, heads="")
    assert english.explain == "Sent to LinkedIn through the ayrshare connector when you submit."
    assert english.hint == "LinkedIn allows 1,250 characters."
    dutch = wording.answer_prompt(NL, "linkedin", None, approval="escalated", heads="Bob")
    assert dutch.explain == ("Geen koppeling verstuurt antwoorden voor LinkedIn: Bob moet het goedkeuren voordat je "
                             "het zelf plaatst op LinkedIn.")
    assert (dutch.label, dutch.submit, dutch.hint) == ("Antwoord ter goedkeuring", "Goedkeuring vragen",
                                                       "LinkedIn staat 1.250 tekens toe.")


def literal_pieces(path: Path) -> set[str]:
    """The text of every string literal in a module (f-strings by their literal parts), docstrings left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                  and ast.get_docstring(node) is not None}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def test_the_catalogue_holds_the_state_words():
    messages = " ".join(template if isinstance(template, str) else " ".join(template.values())
                        for template in EN.messages.values())
    assert [phrase for phrase in STATE_WORDS if phrase not in messages] == []


@pytest.mark.parametrize("path", sorted(p for edge in ("slack", "teams", "chat") for p in (ROOT / "bot" / edge).rglob(
    "*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_chat_edge_spells_the_state_words_itself(path):
    spelled = sorted(words for piece in literal_pieces(path) for words in STATE_WORDS if words in piece)
    assert not spelled, f"{path.relative_to(ROOT)} spells {spelled}: take the words from the catalogue"
