"""Storm grouping keys: the post a mention points to, and MinHash/LSH band keys of its near-duplicate text."""

from __future__ import annotations

import hashlib
import operator
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache, reduce

from bot.core.storms.text import fold, grouping_text

# Change KEY_SCHEME whenever the shingling or the numbers below change: keys of the old scheme then never meet new ones.
KEY_SCHEME = "mh1"
SHINGLE = 4  # characters, spaces included: robust to a changed letter or word, long enough to tell words apart
BANDS, ROWS = 20, 3  # two texts become candidates when all 3 values of any of the 20 bands agree (about Jaccard ≥ 0.37)
PERMUTATIONS = BANDS * ROWS
SIMILAR = 0.55  # estimated Jaccard of the shingles a candidate must reach to join the storm
MIN_WORDS = 3  # shorter texts ("help", "KLM!!!") say too little to group by
TEXTS_REMEMBERED = 4096  # normalised texts whose keys and signature are kept (about 2 KB each)
MAX_CHARS = 500  # the first characters of a long text are enough to recognise a copy, and keep the cost bounded

# The MinHash values of one shingle, 15 bits each, packed into one integer in 16-bit lanes whose top bit is a guard.
_LANES = int.from_bytes(b"\xff\x7f" * PERMUTATIONS, "little")
_GUARDS = int.from_bytes(b"\x00\x80" * PERMUTATIONS, "little")
_SIGNATURE = struct.Struct(f"<{PERMUTATIONS}H")  # little-endian on every machine, so keys match across hosts
_UNPACK = _SIGNATURE.unpack
_RETWEET = re.compile(r"^(?:rt )+")
# Short forms typed either way in the same complaint ("waar is m'n koffer"), after grouping_text dropped the apostrophe.
_SHORT_FORMS = {
    "mn": "mijn", "zn": "zijn", "t": "het", "k": "ik",
    "wheres": "where is", "whats": "what is", "im": "i am", "ive": "i have", "youre": "you are", "cant": "cannot",
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not", "wont": "will not",
}
# A direct message's or a review's parent is a conversation or a page, not a post that others answer too.
_NOT_POINTING = frozenset({"dm", "message", "direct_message", "review"})


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a mention is grouped by: the post it points to, and its text's band keys and MinHash signature."""

    post_key: str | None  # "x:post:1991438…" for a repost, quote or reply; None otherwise
    bands: tuple[str, ...]  # LSH band keys; () when the text has fewer than MIN_WORDS words
    signature: tuple[int, ...]  # PERMUTATIONS MinHash values (15-bit), to confirm a candidate; () with no bands

    @property
    def keys(self) -> tuple[str, ...]:
        """Every lookup key: the post key (if any) and the band keys; two mentions in one storm share at least one."""
        return (self.post_key, *self.bands) if self.post_key else self.bands


def fingerprint(*, network: str, text: str, in_reply_to_id: str | None, kind: str | None) -> Fingerprint:
    """Fingerprint a mention for grouping; the same input gives the same keys in every process, on every host."""
    post_key = None
    if in_reply_to_id and fold(kind or "") not in _NOT_POINTING:
        post_key = f"{fold(network)}:post:{in_reply_to_id}"
    bands, signature = _text_print(_normal_words(text))
    return Fingerprint(post_key=post_key, bands=bands, signature=signature)


@lru_cache(maxsize=TEXTS_REMEMBERED)
def _text_print(words: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """The band keys and signature of a normalised text ((), () if too short): most of a storm is the same few
    texts over and over, so each is worked out once."""
    if not words:
        return (), ()
    signature = _minhash(_shingles_of(words))
    bands = tuple(f"{KEY_SCHEME}:{band}:" + "".join(f"{value:04x}" for value in signature[band * ROWS:][:ROWS])
                  for band in range(BANDS))
    return bands, signature


def pack_signature(signature: tuple[int, ...]) -> bytes | None:
    """The signature as stored with its mention (2 bytes a value); None for a text too short to group."""
    return _SIGNATURE.pack(*signature) if signature else None


def confirms(new: Fingerprint, key: str, packed: bytes | None, threshold: float = SIMILAR) -> bool:
    """Whether a stored mention found under `key` belongs in one storm with `new`: it was found by the post `new`
    points to, or its stored signature shows text similar enough."""
    if key == new.post_key:
        return True
    if not packed or not new.signature:
        return False
    return sum(map(operator.eq, new.signature, _UNPACK(packed))) / PERMUTATIONS >= threshold


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two texts' shingles; 1.0 when both point to the same post."""
    if a.post_key is not None and a.post_key == b.post_key:
        return 1.0
    if not a.signature or not b.signature:
        return 0.0
    return sum(map(operator.eq, a.signature, b.signature)) / PERMUTATIONS


def same_storm(a: Fingerprint, b: Fingerprint, threshold: float = SIMILAR) -> bool:
    """Whether two mentions belong to one storm: the same post, or a shared band key and similar enough text."""
    if a.post_key is not None and a.post_key == b.post_key:
        return True
    return not set(a.bands).isdisjoint(b.bands) and similarity(a, b) >= threshold


def _normal_words(text: str) -> str:
    """The text's words as grouping compares them (short forms written out), or "" if too few to group by."""
    words = [_SHORT_FORMS.get(word, word) for word in _RETWEET.sub("", grouping_text(text[:MAX_CHARS])).split()]
    return " ".join(words) if len(words) >= MIN_WORDS else ""


def _shingles_of(words: str) -> frozenset[str]:
    """The character shingles a normalised text is compared by."""
    if not words:
        return frozenset()
    padded = f" {words} "
    return frozenset(padded[at:at + SHINGLE] for at in range(len(padded) - SHINGLE + 1))


def _minhash(shingled: Iterable[str]) -> tuple[int, ...]:
    """The smallest value of each permutation over the shingles."""
    return _UNPACK(reduce(_lane_min, map(_hashes, shingled)).to_bytes(2 * PERMUTATIONS, "little"))


def _hashes(shingle: str) -> int:
    """One shingle's value under every permutation, packed: an extendable-output hash, 15 bits a permutation."""
    return int.from_bytes(hashlib.shake_128(shingle.encode()).digest(2 * PERMUTATIONS), "little") & _LANES


def _lane_min(a: int, b: int) -> int:
    """The smaller value of each lane of two packed integers, all lanes at once."""
    # A lane of (a | guard) - b cannot borrow from its neighbour and keeps its guard bit exactly where a ≥ b;
    # guard - (guard >> 15) turns that bit into a mask of the lane's 15 value bits, which then take b's value.
    a_not_less = ((a | _GUARDS) - b) & _GUARDS
    return a ^ ((a ^ b) & (a_not_less - (a_not_less >> 15)))
