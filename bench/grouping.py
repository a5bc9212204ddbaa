"""Storm grouping's cost with 10,000 open mentions: how many new mentions a second it places, on one core.

Grouping runs in the ingest transaction (bot/storage/grouping.py): each new mention's keys are looked up among the
group window's mentions and the candidates confirmed by signature. This times that step alone, in process on SQLite
(the embedded default: one thread, so one core), for new mentions arriving in group-commit batches while OPEN
mentions of the same kind are already in the window. Two mixes: the storm's (bench/storm_mix.py: near-duplicates of
a few viral posts, chatter) and ordinary traffic where every text differs and nothing groups, so every candidate
under a shared key must be looked at and refused (the worst case per mention; no target). Run alone with
`python -m bench.grouping`; `python -m bench.storm` runs it too and reports the storm mix's rate as `group_rate`.
"""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import table
from bench.storm_mix import storm
from bot.core.incoming import MentionIn
from bot.core.storms.priority import PriorityRules
from bot.core.storms.rules import StormRules
from bot.storage.database import sync_sqlite_engine
from bot.storage.grouping import group_new_mentions
from bot.storage.ingest import write_deliveries
from bot.storage.migrate import upgrade
from handlers.ingest import Delivery, prioritiser
from tests.support import mention_data

OPEN = 10_000       # mentions already in the group window
MEASURED = 2_000    # new mentions timed
BATCH = 50          # new mentions per ingest transaction
FILL_BATCH = 500
TARGET_RATE = 1_000.0  # mentions per second on one core
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
RULES = StormRules()  # the default thresholds and window
SYLLABLES = ("ba", "ke", "lo", "mi", "nu", "ro", "sa", "te", "vi", "zo", "dre", "klu", "pra", "sto", "wen", "gij")


@dataclass(frozen=True, slots=True)
class Measured:
    """One mix's figures."""

    mix: str
    seconds: float
    storms: int
    grouped: int

    @property
    def rate(self) -> float:
        return MEASURED / self.seconds


def _storm_texts(count: int) -> list[dict[str, object]]:
    fields: list[dict[str, object]] = []
    seed = 1
    while len(fields) < count:
        fields += [planned.data for planned in storm(seed)]
        seed += 1
    return fields[:count]


def _distinct_texts(count: int) -> list[dict[str, object]]:
    """Texts that share a few words now and then, as a day's questions do, but are never near-duplicates."""
    rng = random.Random(7)
    words = sorted({"".join(rng.choices(SYLLABLES, k=3)) for _ in range(5000)})
    return [{"text": f"@AcmeAir {' '.join(rng.choices(words, k=14))}?"} for _ in range(count)]


def _item(n: int, fields: dict[str, object]) -> MentionIn:
    data = {**mention_data(n), **fields, "source_mention_id": f"mw:doc:{n}", "network_item_id": f"g{n}",
            "url": f"https://x.com/someone/status/{n}"}
    return MentionIn.model_validate_json(json.dumps(data))


def _measure(mix: str, fields: list[dict[str, object]], workdir: Path) -> Measured:
    url = f"sqlite:///{workdir / f'{mix}.db'}"
    upgrade(url)
    engine = sync_sqlite_engine(url)
    prioritise = prioritiser(PriorityRules())
    items = [_item(n, f) for n, f in enumerate(fields, 1)]
    spacing = timedelta(minutes=RULES.group_window_minutes / 2) / len(items)  # all within half the window
    batches = [(first, FILL_BATCH, False) for first in range(0, OPEN, FILL_BATCH)] + \
        [(first, BATCH, True) for first in range(OPEN, len(items), BATCH)]
    seconds = 0.0
    try:
        for first, size, timed in batches:
            now = START + spacing * first
            with engine.begin() as conn:
                _, new = write_deliveries(conn, [Delivery(items[first:first + size], None)], now, prioritise)
                new_items = {m: (item, priority.level) for m, (item, priority) in new.items()}
                started = time.process_time()  # CPU time of this process (SQLite runs in it): one core's work
                group_new_mentions(conn, new_items, now, RULES)
                if timed:
                    seconds += time.process_time() - started
    finally:
        engine.dispose()
    with closing(sqlite3.connect(workdir / f"{mix}.db")) as db:
        [(storms,)] = db.execute("SELECT count(*) FROM storm")
        [(grouped,)] = db.execute("SELECT count(*) FROM mention WHERE storm_id IS NOT NULL AND id > ?", (OPEN,))
    return Measured(mix, seconds, storms, grouped)


def measure() -> list[Measured]:
    """Both mixes, each on a fresh database."""
    with tempfile.TemporaryDirectory(prefix="webcare-grouping-") as tmp:
        return [_measure("storm", _storm_texts(OPEN + MEASURED), Path(tmp)),
                _measure("distinct", _distinct_texts(OPEN + MEASURED), Path(tmp))]


def report(results: list[Measured]) -> list[str]:
    """The table and the verdict."""
    rows = [[r.mix, OPEN, MEASURED, BATCH, f"{r.seconds / MEASURED * 1e6:.0f}", f"{r.rate:.0f}", r.storms,
             f"{r.grouped / MEASURED:.0%}"] for r in results]
    rate = storm_rate(results)
    verdict = "met" if rate >= TARGET_RATE else "MISSED"
    ordinary = next(r.rate for r in results if r.mix == "distinct")
    return [table(["mix", "open", "new", "batch", "µs/mention", "mentions/s", "storms", "new grouped"], rows),
            f"grouping in a storm at {OPEN:,} open mentions: {rate:.0f} mentions/s on one core "
            f"(target >= {TARGET_RATE:.0f}) -> {verdict}; texts that all differ: {ordinary:.0f} mentions/s"]


def storm_rate(results: list[Measured]) -> float:
    """New mentions placed a second in the storm mix."""
    return next(r.rate for r in results if r.mix == "storm")


def main() -> None:
    for line in report(measure()):
        print(line)


if __name__ == "__main__":
    main()
