"""Text folding for matching: case, accents, curly quotes, invisible characters and Dutch/English plurals."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import snowballstemmer

# Quote and dash look-alikes, made straight before and after NFKC (which turns "´" into a space and a mark).
_STRAIGHT = str.maketrans({
    **dict.fromkeys("`´ʹʻʼʽˈ‘’‚‛′‵＇", "'"),
    **dict.fromkeys("“”„‟″‶«»〝〞＂", '"'),
    **dict.fromkeys("‐‑‒–—―−⁃﹘﹣－", "-"),
})
# Invisible letters (category Lo, so not caught as format characters) used to split a word unseen.
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_DROPPED = frozenset({"Mn", "Me", "Cf"})  # combining marks (accents), format characters (ZWJ, ZWSP, RTL marks)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_LINK = re.compile(r"(?:https?://|www\.)\S*")
_HANDLE = re.compile(r"(?<!\w)@\w+(?:[.@-]\w+)*")
_stemmers = threading.local()  # a Snowball stemmer keeps state while it works: one per thread


def fold(text: str) -> str:
    """Fold text for matching: NFKC, casefold, accents and invisible characters dropped, quotes straight, one space."""
    if text.isascii():
        return " ".join(text.lower().translate(_STRAIGHT).split())
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text.translate(_STRAIGHT)).casefold())
    kept = "".join(c for c in decomposed if c not in _FILLERS and unicodedata.category(c) not in _DROPPED)
    return " ".join(unicodedata.normalize("NFKC", kept).translate(_STRAIGHT).split())


def words(text: str) -> list[str]:
    """The folded words of a text; an apostrophe inside a word keeps it whole ("can't")."""
    return tokens(fold(text))


def tokens(folded: str) -> list[str]:
    """The words of text that is already folded."""
    return _WORD.findall(folded)


def stems(text: str) -> list[str]:
    """The words of a text stemmed for Dutch and then English, so that plurals fold ("datalekken" → "datalek")."""
    return [stem(word) for word in words(text)]


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """Stem one folded word for Dutch and then English."""
    try:
        dutch, english = _stemmers.dutch, _stemmers.english
    except AttributeError:
        dutch = _stemmers.dutch = snowballstemmer.stemmer("dutch")
        english = _stemmers.english = snowballstemmer.stemmer("english")
    return english.stemWord(dutch.stemWord(word))


def grouping_text(text: str) -> str:
    """The text as near-duplicates share it: no @handles, links, case, punctuation, emoji or apostrophes."""
    bare = _HANDLE.sub(" ", _LINK.sub(" ", fold(text)))
    return " ".join(word.replace("'", "") for word in tokens(bare))
