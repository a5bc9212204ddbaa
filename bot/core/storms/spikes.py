"""Spike rules (docs/contract.md, storms): which topic's volume spikes against its usual volume, and what to alert.

A topic is a playbook's triggers (`playbook:<key>`), a storm group (`storm:<id>`) or all mentions (`all`). Its usual
volume is the mean of its counts in the same window at the same time of week over the previous `HISTORY_WEEKS`
weeks (weeks without data count as zero; with no history the usual volume is 0). Pure: the clock is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.catalogue import Words
from bot.core.clock_words import figure
from bot.core.storms.rules import StormRules
from bot.core.views import CrisisTag, PersonRef

ALL = "all"
HISTORY_WEEKS = 4
WEEK = timedelta(days=7)
SAMPLES = 3


def playbook_topic(key: str) -> str:
    """The topic of a playbook's triggers."""
    return f"playbook:{key}"


def storm_topic(storm_id: int) -> str:
    """The topic of a storm group."""
    return f"storm:{storm_id}"


def alert_subject(alert_id: int) -> str:
    """The subject of an alert's chat message."""
    return f"spike:{alert_id}"


@dataclass(frozen=True, slots=True)
class Seen:
    """A mention received in one of the counted windows."""

    id: int
    received_at: datetime
    storm_id: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Spike:
    """An alert to send: the topic, its numbers, sample mentions (newest first) and the best-matching playbook."""

    topic: str
    count: int
    usual: float
    window_minutes: float
    samples: tuple[int, ...]
    playbook: str | None


@dataclass(frozen=True, slots=True)
class SpikeCheck:
    """What one check decided: alerts to send, and topics whose spike is over (their alerts stop holding)."""

    alerts: tuple[Spike, ...] = ()
    ended: tuple[str, ...] = ()


@dataclass
class _Topic:
    ids: list[int] = field(default_factory=list)  # this window's mentions, newest first
    history: int = 0  # mentions in the earlier weeks' windows


def windows(now: datetime, rules: StormRules) -> list[tuple[datetime, datetime]]:
    """The counted windows `(start, end]`: the last `spike_window_minutes`, then the same window 1…4 weeks back."""
    width = timedelta(minutes=rules.spike_window_minutes)
    return [(now - k * WEEK - width, now - k * WEEK) for k in range(HISTORY_WEEKS + 1)]


def topics_of(mention: Seen, patterns: Mapping[str, re.Pattern[str]]) -> list[str]:
    """Every topic a mention counts for: all, the playbooks whose triggers it names, its storm."""
    found = [ALL, *(playbook_topic(key) for key, pattern in patterns.items() if pattern.search(mention.text))]
    return found + ([storm_topic(mention.storm_id)] if mention.storm_id is not None else [])


def _count(seen: Iterable[Seen], now: datetime, rules: StormRules,
           patterns: Mapping[str, re.Pattern[str]]) -> dict[str, _Topic]:
    spans = windows(now, rules)
    topics: dict[str, _Topic] = {}
    for mention in sorted(seen, key=lambda m: (m.received_at, m.id), reverse=True):
        week = next((k for k, (start, end) in enumerate(spans) if start < mention.received_at <= end), None)
        if week is None:
            continue
        for topic in topics_of(mention, patterns):
            counted = topics.setdefault(topic, _Topic())
            if week == 0:
                counted.ids.append(mention.id)
            else:
                counted.history += 1
    return topics


def _spiking(topic: _Topic, rules: StormRules) -> bool:
    usual = topic.history / HISTORY_WEEKS
    return len(topic.ids) >= rules.spike_min_mentions and len(topic.ids) >= rules.spike_ratio * usual


def best_playbook(texts: Iterable[str], patterns: Mapping[str, re.Pattern[str]]) -> str | None:
    """The playbook whose triggers match the most of these texts (the first key on a tie); None if none match."""
    texts = list(texts)
    scores = {key: sum(1 for text in texts if pattern.search(text)) for key, pattern in sorted(patterns.items())}
    best = max(scores, key=lambda key: scores[key], default=None)
    return best if best is not None and scores[best] > 0 else None


def find_spikes(seen: Iterable[Seen], now: datetime, rules: StormRules, patterns: Mapping[str, re.Pattern[str]],
                alerted: Mapping[str, int]) -> SpikeCheck:
    """Decide which topics to alert on now, given the mentions of the counted windows and the alerts that hold.

    A topic spikes with at least `spike_min_mentions` in the window and `spike_ratio` times its usual volume.
    One spike gives one alert: while a playbook's or a storm's topic spikes, `all` stays silent, and a storm most
    of whose window mentions match a spiking playbook is that playbook's spike. A topic alerted at count n (its
    alert still holds: `alerted`) alerts again only at 2n. A spike is over, and its alert no longer holds, once
    the topic's count falls below half of `spike_min_mentions`.
    """
    seen = list(seen)
    texts = {m.id: m.text for m in seen}
    topics = _count(seen, now, rules, patterns)
    spiking = {key: topic for key, topic in topics.items() if _spiking(topic, rules)}
    by_playbook = {i for key, topic in spiking.items() if key.startswith("playbook:") for i in topic.ids}
    explained = {key for key, topic in spiking.items()
                 if key.startswith("storm:") and 2 * sum(1 for i in topic.ids if i in by_playbook) > len(topic.ids)}
    if any(key != ALL for key in spiking):
        explained.add(ALL)
    alerts = []
    for key in sorted(spiking, key=_order):
        topic = spiking[key]
        if key in explained or (key in alerted and len(topic.ids) < 2 * alerted[key]):
            continue
        samples = tuple(topic.ids[:SAMPLES])
        playbook = key.removeprefix("playbook:") if key.startswith("playbook:") else \
            best_playbook((texts[i] for i in samples), patterns)
        alerts.append(Spike(key, len(topic.ids), topic.history / HISTORY_WEEKS, rules.spike_window_minutes, samples,
                            playbook))
    ended = tuple(sorted(key for key in alerted
                         if 2 * len(topics[key].ids if key in topics else ()) < rules.spike_min_mentions))
    return SpikeCheck(tuple(alerts), ended)


def _order(topic: str) -> tuple[int, int, str]:
    """Playbooks first, then storms by number, then all mentions."""
    kind, _, name = topic.partition(":")
    rank = {"playbook": 0, "storm": 1}.get(kind, 2)
    return rank, int(name) if kind == "storm" and name.isdigit() else 0, name


# -- what an alert's message shows ----------------------------------------------------------------


class SpikeDecision(StrEnum):
    """What people answered on an alert (stored as these words)."""

    CRISIS = "crisis"
    NOT_NOW = "not_now"


@dataclass(frozen=True, slots=True)
class SpikeSample:
    """A sample mention of the spike (customer text: escape it)."""

    mention_id: int
    text: str


@dataclass(frozen=True, slots=True)
class SpikeAlertView:
    """Everything an alert's message shows, at one moment."""

    id: int
    topic: str
    count: int
    usual: float
    window_minutes: float
    samples: tuple[SpikeSample, ...]
    playbook: str | None
    decision: str | None = None
    decided_by: PersonRef | None = None
    crisis: CrisisTag | None = None


def spike_what(view: SpikeAlertView, say: Words) -> str:
    """What spikes, in words: a playbook's triggers, a storm, or all mentions."""
    kind, _, name = view.topic.partition(":")
    if kind == "playbook":
        return say("spike.playbook_topic", playbook=name)
    if kind == "storm":
        return say("spike.storm_topic", storm=name)
    return say("spike.all_topic")


def spike_numbers(view: SpikeAlertView, say: Words) -> str:
    """`42 mentions in 10 min, usually 3`."""
    return say("spike.numbers", count=view.count, window=figure(view.window_minutes, say),
               usual=figure(view.usual, say))
