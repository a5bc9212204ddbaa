"""Core: text is folded for matching (case, accents, quotes, invisible characters, plurals) and for grouping."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.storms.text import fold, grouping_text, stems, words

FOLDED = [
    ("Weer een DATALEK bij  jullie\n\t!", "weer een datalek bij jullie !"),
    ("Café crème, naïef", "cafe creme, naief"),
    ("I can’t log in ‘again’", "i can't log in 'again'"),
    ("canʼt", "can't"),
    ("„Schandalig” — echt", '"schandalig" - echt'),
    ("Ｄａｔａｌｅｋ", "datalek"),
    ("𝐝𝐚𝐭𝐚𝐥𝐞𝐤", "datalek"),
    ("Straße", "strasse"),
    ("da\u200btalek", "datalek"),  # zero-width space
    ("da\u200dtalek", "datalek"),  # zero-width joiner
    ("da\u00adtalek", "datalek"),  # soft hyphen
    ("\u202edatalek\u202c", "datalek"),  # right-to-left override
    ("\u200fdatalek\u200e", "datalek"),  # RTL and LTR marks
    ("data\u3164lek", "datalek"),  # Hangul filler, an invisible letter
    ("date\u0301\u0301lek", "datelek"),  # stacked combining accents
    ("koffer\u00a0kwijt", "koffer kwijt"),  # no-break space
    ("", ""),
]


@pytest.mark.parametrize(("text", "folded"), FOLDED)
def test_fold_drops_case_accents_invisible_characters_and_curly_quotes(text, folded):
    assert fold(text) == folded


def test_words_keep_apostrophes_inside_words_and_split_on_everything_else():
    assert words("I can’t believe it's the 3rd time!! #datalek @KLM e-mail 'quoted'") == [
        "i", "can't", "believe", "it's", "the", "3rd", "time", "datalek", "klm", "e", "mail", "quoted"]
    assert words("😡😡 !!! …") == []


@pytest.mark.parametrize(("plural", "singular"), [
    ("datalekken", "datalek"), ("Rechters", "rechter"), ("advocaten", "advocaat"), ("storingen", "storing"),
    ("klachten", "klacht"), ("lawsuits", "lawsuit"), ("data breaches", "data breach"), ("refunds", "refund"),
    ("lawyers", "lawyer"), ("oplichters", "oplichter"),
])
def test_plurals_fold_to_the_same_stems_in_dutch_and_english(plural, singular):
    assert stems(plural) == stems(singular)


@pytest.mark.parametrize(("word", "other"), [("rechtervoet", "rechter"), ("lekker", "lek"), ("datalekken", "lek")])
def test_a_longer_word_is_not_its_prefix(word, other):
    assert stems(word) != stems(other)


def test_retweets_and_copies_of_one_complaint_share_their_grouping_text():
    copies = [
        "RT @boze_klant: @KLM waar is mijn KOFFER?!? https://t.co/AbC123 😡😡",
        "@KLM Waar is mijn koffer… www.klm.com/bagage #",
        "waar is mijn koffer @klm @Schiphol @nos@mastodon.nl",
        "Waar\u200b is mijn ‘koffer’???",
    ]
    assert {grouping_text(text).removeprefix("rt ") for text in copies} == {"waar is mijn koffer"}
    assert grouping_text("I can’t find my bag") == grouping_text("i cant find my bag") == "i cant find my bag"
    assert grouping_text("Waar is mijn fiets?") != grouping_text("Waar is mijn koffer?")


def test_grouping_keeps_an_email_address_as_words_not_as_a_handle():
    assert grouping_text("Mail info@klm.nl over @klm") == "mail info klm nl over"


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_fold_is_idempotent_and_leaves_no_invisible_or_combining_characters(text):
    folded = fold(text)
    assert fold(folded) == folded
    assert folded == folded.strip() and "  " not in folded
    assert not any(unicodedata.category(c) in ("Cf", "Mn", "Me") for c in folded)
    assert not any(c in folded for c in "‘’“”–—")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_words_stems_and_grouping_text_never_fail_and_agree(text):
    assert len(stems(text)) == len(words(text))
    grouped = grouping_text(text)
    assert grouping_text(grouped) == grouped
    assert "@" not in grouped and "://" not in grouped


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Datalek", "rechter", "lawsuit", "can't", "ACM", "storing"]), min_size=1),
       st.sampled_from(["\u200b", "\u200d", "\u00ad", "\u200f", "\u2060", "\u0301"]), st.data())
def test_an_invisible_character_anywhere_in_a_word_does_not_change_its_stem(chosen, hostile, data):
    text = " ".join(chosen)
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    assert stems(text[:at] + hostile + text[at:]) == stems(text)
