"""Core: who may act on mentions: the webcare team acts, department heads review, strangers are told whom to ask."""

import pytest

from bot.core.access import Access, NoAccess, Team, require
from bot.core.mentions import Actor, NotAllowed
from bot.core.views import PersonRef
from handlers.access import team
from tests.support import team_config

TEAM = Team(people=frozenset({"anna", "bram", "carla", "dirk", "eva"}),
            heads={"bram": ("Sales", "Legal"), "dirk": ("Legal",)}, leads=("Anna de Vries",))
ANNA = Actor(PersonRef("anna", "Anna de Vries"), frozenset({"webcare", "webcare-lead"}))
CARLA = Actor(PersonRef("carla", "Carla Smit"), frozenset({"webcare"}))
EVA = Actor(PersonRef("eva", "Eva Hendriks"), frozenset({"crisis-lead"}))
BRAM = Actor(PersonRef("bram", "Bram Jansen"), frozenset({"corporate-communications"}))
DIRK = Actor(PersonRef("dirk", "Dirk Bakker"), frozenset({"legal", "webcare"}))
ZOE = Actor(PersonRef.chat_user("slack", "U0ZOE", "Zoe"))


@pytest.mark.parametrize("actor", [ANNA, CARLA, EVA, DIRK], ids=["lead", "webcare", "listed", "head with webcare"])
@pytest.mark.parametrize("needed", list(Access))
def test_the_team_may_do_everything(actor, needed):
    require(TEAM, actor, needed)


@pytest.mark.parametrize("needed", list(Access))
def test_a_stranger_is_refused_and_told_which_lead_to_ask(needed):
    with pytest.raises(NoAccess) as refused:
        require(TEAM, ZOE, needed)
    assert refused.value.user_message == ("Only the webcare team can act on mentions. "
                                          "Ask Anna de Vries to add you to webcare.toml.")
    assert isinstance(refused.value, NotAllowed)  # shown like every other refusal on each edge


def test_a_head_reviews_drafts_but_does_not_take_mentions_up():
    require(TEAM, BRAM, Access.LISTED)
    with pytest.raises(NoAccess) as refused:
        require(TEAM, BRAM, Access.TEAM)
    assert refused.value.user_message == (
        "As head of Sales and Legal you approve drafts and request changes; claiming, answering, dismissing and "
        "escalating mentions is for the webcare team. Ask Anna de Vries for the webcare role if you need it.")


def test_a_head_who_leads_webcare_may_act():
    lead = Actor(PersonRef("bram", "Bram Jansen"), frozenset({"webcare-lead"}))
    require(TEAM, lead, Access.TEAM)


@pytest.mark.parametrize(("leads", "ask"), [
    ((), "Ask whoever keeps webcare.toml to add you"),
    (("Anna de Vries", "Bram Jansen"), "Ask Anna de Vries or Bram Jansen to add you"),
    (("A", "B", "C"), "Ask A, B or C to add you"),
])
def test_the_refusal_names_every_lead(leads, ask):
    with pytest.raises(NoAccess, match=ask):
        require(Team(people=TEAM.people, leads=leads), ZOE, Access.TEAM)


def test_a_stranger_who_borrows_a_listed_name_is_still_a_stranger():
    impostor = Actor(PersonRef.chat_user("slack", "U0ZOE", "Anna de Vries"), frozenset({"webcare"}))
    with pytest.raises(NoAccess):
        require(TEAM, impostor, Access.TEAM)


def test_the_team_of_webcare_toml():
    found = team(team_config())
    assert found.people == {"anna", "bram", "carla", "dirk", "eva"}
    assert found.heads == {"bram": ("Sales", "Legal"), "dirk": ("Legal",)}
    assert found.leads == ("Anna de Vries",)
