"""The storm bench's mentions: reposts of a few viral posts, storm chatter, ordinary questions, a journalist, a leak."""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

STORM_SECONDS = 120
RATE = 25                # mentions per second, evenly spaced
REPOST_SHARE = 0.9       # near-duplicates of the viral posts; the rest is chatter, questions and the two that matter
ORDINARY_EVERY = 10      # seconds between ordinary customer questions, the first 5 s into the storm
SPECIAL_AT = 60          # the journalist, then the data leak a slot later
JOURNALIST_FOLLOWERS = 250_000
SEED = 13


class Kind(StrEnum):
    """What a mention in the storm is."""

    REPOST = "repost"
    CHATTER = "chatter"
    ORDINARY = "ordinary"
    JOURNALIST = "journalist"
    LEAK = "leak"


@dataclass(frozen=True, slots=True)
class Planned:
    """One mention of the storm: when it is sent (seconds after the start), what it is, its `data` fields."""

    at: float
    kind: Kind
    data: dict[str, Any]


# The viral posts everybody reposts (a United-2017-style incident at a Dutch airline).
VIRAL = (
    ("boze_reiziger", "1991500000000000001",
     "Passagier met geweld uit overboekte vlucht AC1234 van @AcmeAir gesleept, met bloed op zijn gezicht. "
     "Zo gaat Acme met klanten om. Schandalig."),
    ("vliegangst_nl", "1991500000000000002",
     "Video: crew van @AcmeAir laat passagier van vlucht AC1234 door beveiliging uit zijn stoel trekken. "
     "Omdat de vlucht overboekt was?!"),
    ("travelwatch", "1991500000000000003",
     "@AcmeAir dragged a paying passenger off overbooked flight AC1234. Never again. #BoycottAcme"),
    ("kees_aan_boord", "1991500000000000004",
     "Ik zat in vlucht AC1234 en heb het gefilmd. Niemand van @AcmeAir greep in. Walgelijk."),
)
_DECORATIONS = ("", "", " #AcmeAir", " #BoycottAcme", " 😡", " !!!", " https://t.co/{n}", " via @nieuwsflits")
_PREFIXES = ("RT @{author}: ", "RT @{author}: ", "RT @{author} ", "Wow. RT @{author}: ", "\"@{author}: ")
_CHATTER_OPENERS = ("Heeft iemand de video van AC1234 gezien?", "Ik vlieg volgende week met @AcmeAir.",
                    "Dit is toch niet normaal.", "Benieuwd wat @AcmeAir hierop zegt.", "Wat een beelden.",
                    "Hoe kan een airline zo met mensen omgaan?", "Overboeken is gewoon legaal, blijkbaar.",
                    "Mijn moeder zat ook in dat toestel.", "Why does nobody at @AcmeAir say sorry?")
_CHATTER_CLOSERS = ("Ik boek wel bij een ander.", "Wachten op een reactie.", "Ongelofelijk.", "Schaam je, Acme.",
                    "Iemand een idee wat je rechten zijn bij overboeking?", "Delen!", "Zo jammer.", "Wow.")
ORDINARY = (
    "@AcmeAir mijn koffer is niet meegekomen op vlucht AC881 naar Schiphol. Waar kan ik hem melden?",
    "@AcmeAir can I still add extra legroom to my booking for Friday?",
    "@AcmeAir hoe laat gaat de incheckbalie open voor de vlucht van 06:40 naar Lissabon?",
    "@AcmeAir is my flight AC417 to Barcelona on time today?",
    "@AcmeAir mag een kinderwagen mee als handbagage?",
    "@AcmeAir ik heb mijn stoel niet kunnen kiezen in de app, kan dat nog aan de balie?",
    "@AcmeAir how do I change the name on my ticket? Typo in my surname.",
    "@AcmeAir wanneer krijg ik mijn spaarpunten van de reis van vorige maand?",
    "@AcmeAir kan ik mijn hond meenemen in de cabine naar Nice?",
    "@AcmeAir my boarding pass won't load in the app, gate closes in an hour",
    "@AcmeAir mijn vlucht is verplaatst naar morgen, heb ik recht op een hotel?",
    "@AcmeAir is er wifi aan boord van de Embraer naar Bergen?",
)
JOURNALIST_TEXT = ("@AcmeAir Ik werk aan een verhaal over de passagier die van vlucht AC1234 is gehaald. "
                   "Kunt u vandaag reageren? Mijn DM staat open.")
LEAK_TEXT = ("@AcmeAir in jullie app zie ik ineens de boekingen, het paspoortnummer en het adres van een andere "
             "klant. Dit is een datalek! Wie lost dit op?")


def storm(seed: int = SEED) -> list[Planned]:
    """The storm, in sending order: RATE mentions a second for STORM_SECONDS, the same for the same seed."""
    rng = random.Random(seed)
    slots = STORM_SECONDS * RATE
    fixed = {SPECIAL_AT * RATE: Kind.JOURNALIST, SPECIAL_AT * RATE + 1: Kind.LEAK}
    fixed.update({(ORDINARY_EVERY // 2 + ORDINARY_EVERY * k) * RATE: Kind.ORDINARY
                  for k in range(STORM_SECONDS // ORDINARY_EVERY)})
    free = [i for i in range(slots) if i not in fixed]
    chatter = set(rng.sample(free, len(free) - round(REPOST_SHARE * slots)))
    questions = iter(ORDINARY)
    planned = []
    for i in range(slots):
        kind = fixed.get(i) or (Kind.CHATTER if i in chatter else Kind.REPOST)
        if kind is Kind.ORDINARY:
            data = _post(_crowd(rng, i), next(questions))
        elif kind is Kind.JOURNALIST:
            data = _post(_author("jdekker_verslag", "Jeroen Dekker (verslaggever)", JOURNALIST_FOLLOWERS, True),
                         JOURNALIST_TEXT)
        elif kind is Kind.LEAK:
            data = _post(_author("lotte_b", "Lotte B.", 187), LEAK_TEXT)
        elif kind is Kind.CHATTER:
            data = _post(_crowd(rng, i), f"{rng.choice(_CHATTER_OPENERS)} {rng.choice(_CHATTER_CLOSERS)}")
        else:
            data = _repost(rng, i)
        planned.append(Planned(i / RATE, kind, data))
    return planned


def _repost(rng: random.Random, n: int) -> dict[str, Any]:
    """A retweet-like near-duplicate of one of the viral posts: another prefix, case, punctuation, a tag or link."""
    author, post_id, text = rng.choice(VIRAL)
    if rng.random() < 0.2:
        text = text.lower()
    if rng.random() < 0.2:
        text = text.replace(",", "").replace(".", "")
    prefix = rng.choice(_PREFIXES).format(author=author)
    suffix = rng.choice(_DECORATIONS).format(n=f"x{n:06d}")
    data = _post(_crowd(rng, n), f"{prefix}{text}{suffix}")
    return {**data, "kind": "repost", "in_reply_to_id": post_id}


def _crowd(rng: random.Random, n: int) -> dict[str, Any]:
    """Someone in the crowd: a few hundred followers typically, now and then thousands (lognormal)."""
    return _author(f"user{n:05d}", f"User {n}", min(int(rng.lognormvariate(5.7, 1.5)), 2_000_000))


def _author(handle: str, name: str, followers: int, verified: bool = False) -> dict[str, Any]:
    return {"id": f"a-{handle}", "handle": handle, "display_name": name, "profile_url": f"https://x.com/{handle}",
            "followers": followers, "verified": verified}


def _post(author: dict[str, Any], text: str) -> dict[str, Any]:
    """The `data` fields of a mention on X by `author`; ids and URLs are added when it is sent."""
    return {"author": author, "text": text, "kind": "post", "in_reply_to_id": None, "lang": "nl",
            "thread_root_id": None}
