"""Core: a mention's priority — VIPs, reach, verified, keywords (NL/EN, folded), crisis link, negative tone."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.catalogue import words
from bot.core.storms.priority import Level, Priority, PriorityRules, compact, score
from bot.core.storms.priority_words import priority_label
from bot.core.storms.sentiment import negative

EN = words("en")
RULES = PriorityRules(
    vip=frozenset({"x:NOS", "mastodon:@nos@mastodon.nl"}),
    keywords={"datalek": 40, "rechter": 30, "lawsuit": 30, "data breach": 40, "can't log in": 15, "ACM": 25,
              "Consumentenbond": 25, "storing": 20, "refund": 10, "nieuwsbrief": 0},
)


def scored(text: str = "Hoi", *, network: str = "x", handle: str | None = "@klant", followers: int | None = 120,
           verified: bool = False, crisis_linked: bool = False, rules: PriorityRules = RULES) -> Priority:
    return score(rules, network=network, handle=handle, followers=followers, verified=verified, text=text,
                 crisis_linked=crisis_linked)


def test_the_journalist_with_a_data_leak_is_p1_with_reasons_in_the_designs_words():
    journalist = scored("Klopt het dat er een datalek is bij jullie klantenservice?", handle="@jan_journalist",
                        followers=250_000, verified=True)
    assert journalist.reasons == ("followers:250000", "verified", "keyword:datalek")
    shown = priority_label(journalist.level, journalist.reasons, EN)
    assert shown == 'P1 · 250k followers · verified · keyword "datalek"'
    assert journalist.score == 100 and journalist.level is Level.P1


@pytest.mark.parametrize(("followers", "verified", "points", "level"), [
    (100_000, True, 70, Level.P1),  # the top reach bucket and verified: P1 with the defaults
    (99_999, True, 55, Level.P2),
    (2_000_000, False, 45, Level.P2),
    (10_000, False, 30, Level.P3),
    (999, True, 25, Level.P3),
    (None, False, 0, Level.P3),
])
def test_reach_and_verified_add_up_to_the_levels_of_the_defaults(followers, verified, points, level):
    priority = scored(followers=followers, verified=verified)
    assert (priority.score, priority.level) == (points, level)


@pytest.mark.parametrize(("network", "handle"), [
    ("x", "@NOS"), ("x", "nos"), ("mastodon", "@nos@mastodon.nl"), ("mastodon", "NOS@Mastodon.nl"), ("x", "ＮＯＳ"),
])
def test_a_vip_is_p1_whatever_else(network, handle):
    priority = scored("leuk", network=network, handle=handle, followers=3)
    assert (priority.score, priority.level, priority.reasons) == (100, Level.P1, ("vip",))


@pytest.mark.parametrize(("network", "handle"), [("mastodon", "@nos"), ("bluesky", "nos"), ("x", None)])
def test_the_vip_list_names_one_account_on_one_network(network, handle):
    assert "vip" not in scored(network=network, handle=handle).reasons


# Recorded-looking mentions: what each scores and why (RULES, an ordinary author with 120 followers).
RECORDED = [
    ("Weer een datalek bij jullie?! Schandalig! Ik stap naar de rechter.",
     ("keyword:datalek", "keyword:rechter", "negative")),
    ("Datalekken, storingen en nu dit. Ik ga naar de Consumentenbond!",
     ("keyword:datalek", "keyword:Consumentenbond", "keyword:storing")),
    ("Third DATA BREACH this year. Expect a lawsuit.", ("keyword:data breach", "keyword:lawsuit")),
    ("Data-breaches everywhere, lawsuits incoming", ("keyword:data breach", "keyword:lawsuit")),
    ("I can’t log in since this morning, terrible app", ("keyword:can't log in", "negative")),
    ("De rechters hebben gesproken", ("keyword:rechter",)),
    ("Au, mijn rechtervoet!", ()),
    ("Wanneer krijg ik mijn refund? Al 3 weken niks gehoord", ("keyword:refund",)),
    ("De ACM moet hier eens naar kijken", ("keyword:ACM",)),
    ("Nieuwsbrief ontvangen, dank!", ()),  # a keyword with weight 0 adds nothing and is no reason
    ("Lekker bezig, eindelijk weer bereikbaar", ()),
]


@pytest.mark.parametrize(("text", "reasons"), RECORDED)
def test_recorded_mentions_score_their_keywords_and_tone(text, reasons):
    assert scored(text).reasons == reasons


def test_each_keyword_counts_once_however_often_it_appears():
    assert scored("datalek datalek DATALEKKEN datalek").score == 40


@pytest.mark.parametrize("text", [
    "da\u200btalek", "data\u200dlek", "\u202edatalek\u202c", "ｄａｔａｌｅｋ", "da\u0301talek", "DATA\u00adLEK",
    "\u200fdatalekken\u200e", "𝕕𝕒𝕥𝕒𝕝𝕖𝕜", "data\u3164lek",
])
def test_hostile_unicode_does_not_hide_a_keyword(text):
    assert scored(f"Weer een {text} hoor").reasons == ("keyword:datalek",)


def test_crisis_link_and_negative_tone_add_their_weights_and_the_score_stops_at_100():
    assert scored("hoi", crisis_linked=True).score == 30
    assert scored("Schandalig slechte service").score == 10
    everything = scored("Datalek, rechter, lawsuit, ACM: schandalig", followers=10**6, verified=True,
                        crisis_linked=True)
    assert everything.score == 100 and everything.reasons[-2:] == ("crisis", "negative")


def test_levels_follow_the_configured_thresholds():
    strict = PriorityRules(keywords={"storing": 20}, p1=95, p2=20)
    assert scored("storing", rules=strict).level is Level.P2
    assert scored("storing", followers=1_000_000, verified=True, rules=strict).level is Level.P2
    assert scored("storing", followers=1_000_000, verified=True, crisis_linked=True, rules=strict).level is Level.P1
    assert scored("hallo", rules=strict).level is Level.P3


@pytest.mark.parametrize(("count", "shown"), [
    (312, "312"), (1_000, "1k"), (1_250, "1.2k"), (1_999, "1.9k"), (12_345, "12k"), (250_000, "250k"),
    (999_999, "999k"), (1_200_000, "1.2M"), (12_345_678, "12M"),
])
def test_follower_counts_are_shown_compactly_and_never_rounded_up(count, shown):
    assert compact(count) == shown


def test_a_stored_level_and_reasons_give_the_same_label():
    assert priority_label("P2", ["followers:12345", "negative"], EN) == "P2 · 12k followers · negative"
    assert priority_label("P3", [], EN) == "P3"


@pytest.mark.parametrize("text", [
    "Waardeloze service, nooit meer!", "Dit is echt SCHANDALIG", "Ik ben woedend", "Wat een oplichters",
    "Terrible service, never again", "Absolutely disgusting", "You scammed me", "Worst ever.", "Niet normaal dit",
    "Niet blij. Echt slecht.", "Not angry but disappointed", "Mijn pakket 😡",
])
def test_strongly_negative_dutch_and_english_is_negative(text):
    assert negative(text)


@pytest.mark.parametrize("text", [
    "Niet slecht!", "not terrible at all", "Helemaal niet zo belachelijk", "I don't hate it", "Top service, dank!",
    "Slechts 5 euro, mooi", "Mijn bad is lek", "Lekkere worst", "Waar is mijn koffer?", "",
])
def test_negation_praise_and_false_friends_are_not_negative(text):
    assert not negative(text)


def with_keyword(surface: str) -> st.SearchStrategy[str]:
    return st.tuples(st.text(max_size=40), st.text(max_size=40)).map(lambda t: f"{t[0]} {surface} {t[1]}")


SURFACES = [("datalek", s) for s in ("DataLek", "datalekken", "da\u200btalek", "dátálék", "ｄａｔａｌｅｋ")] + [
    ("can't log in", s) for s in ("can’t log in", "CAN'T LOG IN", "can\u02bct log\u00a0in")] + [
    ("data breach", s) for s in ("data-breaches", "Data Breach", "data\u2014breach")] + [
    ("rechter", "rechters"), ("lawsuit", "lawsuits"), ("ACM", "acm")]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SURFACES).flatmap(lambda pair: st.tuples(st.just(pair[0]), with_keyword(pair[1]))))
def test_any_text_with_a_keyword_inserted_matches_it(keyword_and_text):
    keyword, text = keyword_and_text
    assert keyword in RULES.matched(text)
    assert f"keyword:{keyword}" in scored(text).reasons


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300), followers=st.none() | st.integers(min_value=0, max_value=2**31 - 1),
       verified=st.booleans(), crisis_linked=st.booleans(), handle=st.none() | st.text(max_size=30),
       thresholds=st.tuples(st.integers(0, 100), st.integers(0, 100)).filter(lambda t: t[0] != t[1]))
def test_score_stays_within_0_and_100_and_the_level_follows_the_thresholds(text, followers, verified,
                                                                             crisis_linked, handle, thresholds):
    rules = PriorityRules(vip=RULES.vip, keywords=RULES.keywords, p1=max(thresholds), p2=min(thresholds))
    priority = scored(text, handle=handle, followers=followers, verified=verified, crisis_linked=crisis_linked,
                      rules=rules)
    assert 0 <= priority.score <= 100
    expected = (Level.P1 if priority.score >= rules.p1 else Level.P2 if priority.score >= rules.p2 else Level.P3)
    assert priority.level is expected
    assert len(set(priority.reasons)) == len(priority.reasons)
    assert priority_label(priority.level, priority.reasons, EN).startswith(priority.level.value)
