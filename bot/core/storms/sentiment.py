"""Negative sentiment as a weak signal: a small curated Dutch and English lexicon with simple negation."""

from __future__ import annotations

import re

from bot.core.storms.text import fold, tokens

# Strongly negative words and phrases, each inflection written out: the Dutch stemmer is too eager here
# ("slechts", only, would fold into "slecht"; "woedend" into "wo"). Left out on purpose, because they mean
# something else in the other language: "bad" (Dutch: bath), "worst" (Dutch: sausage), "lied" (Dutch: song).
_LEXICON = (
    # English
    "awful", "terrible", "terribly", "horrible", "horribly", "horrendous", "appalling", "atrocious", "abysmal",
    "the worst", "worst ever", "disgusting", "disgraceful", "disgrace", "pathetic", "useless", "worthless",
    "scam", "scams", "scammed", "scammer", "scammers", "fraud", "fraudulent", "fraudsters", "rip off", "ripoff",
    "ripped off", "thieves", "liars", "furious", "outraged", "outrageous", "angry", "livid", "hate", "hated",
    "hates", "unacceptable", "ridiculous", "shameful", "shame on you", "incompetent", "rude", "disappointed",
    "disappointing", "sucks", "crap", "crappy", "shit", "shitty", "wtf", "never again", "nightmare", "boycott",
    "fed up", "sick of", "what a joke",
    # Dutch
    "slecht", "slechte", "slechter", "slechtst", "slechtste", "waardeloos", "waardeloze", "schandalig",
    "schandalige", "schande", "schandaal", "belachelijk", "belachelijke", "woedend", "woedende", "boos", "boze",
    "kwaad", "walgelijk", "walgelijke", "oplichters", "oplichter", "oplichterij", "opgelicht", "bedrog",
    "bedrogen", "belazerd", "afgezet", "genaaid", "leugenaars", "gelogen", "dieven", "beroerd", "beroerde",
    "klote", "kut", "bagger", "teleurgesteld", "teleurstellend", "teleurstellende", "onacceptabel",
    "onaanvaardbaar", "onbeschoft", "onbeschofte", "incompetente", "amateurs", "amateuristisch", "rampzalig",
    "dieptepunt", "ergerlijk", "lamlendig", "diep triest", "nooit meer", "niet normaal", "klaar mee",
)
_EMOJI = frozenset("😡🤬👎💩😤😠🖕")
_NEGATORS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "hardly", "without",
    "niet", "geen", "nooit", "niets", "niks", "niemand", "nergens", "zonder", "allerminst", "nauwelijks",
})
_CONTRAST = frozenset({"but", "maar", "though", "echter"})  # "not angry but disappointed": the negation stops here
_REACH = 3  # a negator this many words before the negative word takes it back ("niet echt slecht")
_CLAUSE = re.compile(r"[.!?;,:]+")


def _by_first_word(entries: tuple[str, ...]) -> dict[str, tuple[tuple[str, ...], ...]]:
    phrases: dict[str, tuple[tuple[str, ...], ...]] = {}
    for entry in entries:
        phrase = tuple(entry.split())
        phrases[phrase[0]] = (*phrases.get(phrase[0], ()), phrase)
    return phrases


_PHRASES = _by_first_word(_LEXICON)


def negative(text: str) -> bool:
    """Whether the text says something strongly negative that no "not"/"niet" just before takes back.

    A weak signal only: a word list misses sarcasm, irony and most of what people mean; it only nudges the score.
    """
    folded = fold(text)
    if not _EMOJI.isdisjoint(folded):
        return True
    return any(_negative_clause(tokens(clause)) for clause in _CLAUSE.split(folded))


def _negative_clause(tokens: list[str]) -> bool:
    for at, token in enumerate(tokens):
        for phrase in _PHRASES.get(token, ()):
            if tuple(tokens[at:at + len(phrase)]) == phrase and not _negated(tokens, at):
                return True
    return False


def _negated(tokens: list[str], at: int) -> bool:
    for before in reversed(tokens[max(0, at - _REACH):at]):
        if before in _CONTRAST:
            return False
        if before in _NEGATORS or before.endswith("n't"):
            return True
    return False
