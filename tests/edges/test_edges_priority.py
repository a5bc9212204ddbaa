"""Edges: a card shows its priority level and reasons on Slack and Teams alike, with nothing in them live."""

from __future__ import annotations

import json

import pytest

from bot.core.catalogue import words
from bot.slack.render import render_card as slack_card
from bot.teams.render import render_card as teams_card
from tests.views import sample_card

EN = words("en")
NL = words("nl")

HOSTILE_NAME = "<!channel> <@U999> <http://evil.example|x> *loud* {keyword}"  # a keyword's name in webcare.toml
P1 = sample_card(priority_level="P1", priority_reasons=("followers:250000", "verified", "keyword:datalek"))


def slack_priority_line(view, say=EN) -> str:
    _, blocks = slack_card(view, say)
    [line] = [b for b in blocks if b["block_id"] == f"mention-{view.mention_id}-priority"]
    return line["elements"][0]["text"]


def teams_priority_runs(view, say=EN) -> list[dict]:
    card = teams_card(view, [], say)
    [line] = [b for b in card["body"] if b.get("id") == f"mention-{view.mention_id}-priority"]
    return line["inlines"]


def test_slack_shows_the_level_in_bold_then_why():
    assert slack_priority_line(P1) == '*P1* · 250k followers · verified · keyword "datalek"'
    assert slack_priority_line(sample_card()) == "*P3*"


def test_teams_shows_the_level_in_bold_red_for_p1_then_why():
    runs = teams_priority_runs(P1)
    assert "".join(r["text"] for r in runs) == 'P1 · 250k followers · verified · keyword "datalek"'
    assert (runs[0]["weight"], runs[0]["color"]) == ("bolder", "attention")
    assert "color" not in teams_priority_runs(sample_card(priority_level="P2"))[0]


def test_a_dutch_team_reads_the_reasons_in_dutch_on_either_platform():
    shown = 'P1 · 250k volgers · geverifieerd · trefwoord "datalek"'
    assert slack_priority_line(P1, NL) == f"*{shown[:2]}*{shown[2:]}"
    assert "".join(r["text"] for r in teams_priority_runs(P1, NL)) == shown


@pytest.mark.parametrize("say", [EN, NL], ids=["en", "nl"])
def test_reasons_stored_in_words_by_an_earlier_release_are_shown_as_they_were(say):
    view = sample_card(priority_level="P1", priority_reasons=("VIP", "250k followers", 'keyword "datalek"',
                                                              "crisis-linked"))
    shown = 'VIP · 250k followers · keyword "datalek" · crisis-linked'
    assert slack_priority_line(view, say) == f"*P1* · {shown}"
    assert "".join(r["text"] for r in teams_priority_runs(view, say)) == f"P1 · {shown}"


@pytest.mark.parametrize("reason", [f"keyword:{HOSTILE_NAME}", f'keyword "{HOSTILE_NAME}"'], ids=["code", "words"])
def test_a_keyword_from_webcare_toml_cannot_ping_or_link_on_either_platform(reason):
    view = sample_card(priority_level="P2", priority_reasons=(reason,))
    line = slack_priority_line(view)
    assert line.startswith('*P2* · keyword "') and line.endswith('{keyword}"')  # said as a keyword, not filled in
    assert "<!channel>" not in line and "<@U999>" not in line and "<http://" not in line
    assert "&lt;!channel&gt;" in line
    runs = teams_priority_runs(view)
    assert "".join(r["text"] for r in runs) == f'P2 · keyword "{HOSTILE_NAME}"'  # verbatim, as plain text
    assert all(r["type"] == "TextRun" for r in runs)  # plain text: Teams renders no markup or mention in a TextRun
    assert "<at>" not in json.dumps(teams_card(view, [], EN))
