"""Typed `playbooks` and `crisis …` commands mean the same on Slack and Teams; bad ones say how to type them."""

import pytest

from bot.core import commands as c
from bot.core.intents import command_for, text_query
from bot.core.mentions import Actor, DomainError
from bot.core.views import PersonRef

ANNA = Actor(PersonRef("anna", "Anna de Vries"), frozenset({"crisis-lead"}))
HERE = c.Place("slack", "C0CRISIS1")


@pytest.mark.parametrize(("typed", "expected"), [
    ("playbooks", c.ListPlaybooks(ANNA)),
    ("crisis start outage", c.StartCrisis(ANNA, "outage")),
    ("crisis start outage --drill app down since 08:50", c.StartCrisis(ANNA, "outage", "app down since 08:50", True)),
    ("Crisis  status", c.ShowCrisis(ANNA, HERE)),
    ("crisis", c.ShowCrisis(ANNA, HERE)),
    ("crisis status --crisis 4", c.ShowCrisis(ANNA, HERE, 4)),
    ("crisis done confirm-the-outage status page is red",
     c.CompleteStep(ANNA, "confirm-the-outage", "status page is red", HERE)),
    ("crisis done confirm-the-outage --crisis=#7", c.CompleteStep(ANNA, "confirm-the-outage", None, HERE, 7)),
    ("crisis skip brief-legal no legal angle", c.SkipStep(ANNA, "brief-legal", "no legal angle", HERE)),
    ("crisis end", c.EndCrisis(ANNA, None, HERE)),
    ("crisis end --force false alarm", c.EndCrisis(ANNA, "false alarm", HERE)),
    ("crisis report", c.ReportCrisis(ANNA, HERE)),
    ("crisis report #3", c.ReportCrisis(ANNA, HERE, 3)),
])
def test_typed_commands(typed, expected):
    assert text_query(typed, ANNA, HERE) == expected


@pytest.mark.parametrize(("typed", "says"), [
    ("crisis skip brief-legal", "Give a reason: `crisis skip brief-legal <reason>`"),
    ("crisis end --force", "Give a reason: `crisis end --force <reason>`"),
    ("crisis end now please", "takes no words"),
    ("crisis start", "Usage: `crisis start <playbook> [--drill] [note]`"),
    ("crisis done", "Usage: `crisis done <step> [note]`"),
    ("crisis status --crisis x", "does not name a crisis"),
    ("crisis panic", "Unknown crisis command. Try: crisis start"),
])
def test_bad_commands_say_how_to_type_them(typed, says):
    with pytest.raises(DomainError, match=says.replace("[", "\\[").replace("]", "\\]")):
        text_query(typed, ANNA, HERE)


def test_checklist_buttons_and_card_links_carry_their_subjects():
    assert command_for("crisis_done", 3, ANNA, {"step": "confirm-the-outage"}) == c.CompleteStep(
        ANNA, "confirm-the-outage", None, crisis_id=3)
    assert command_for("crisis_skip", 3, ANNA, {"step": "brief-legal", "reason": "n/a"}) == c.SkipStep(
        ANNA, "brief-legal", "n/a", crisis_id=3)
    assert command_for("link", 12, ANNA, {"crisis_id": "3"}) == c.LinkMention(12, ANNA, 3)
    assert command_for("unlink", 12, ANNA, {}) == c.UnlinkMention(12, ANNA)
