"""Storm rules (docs/contract.md §10): when similar mentions group, when P3 goes to a digest, what a spike is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StormRules:
    """The [storm] table of webcare.toml; every duration may be a fraction."""

    group_min: int = 3  # similar mentions that make a group…
    group_window_minutes: float = 30.0  # …within this many minutes
    digest_after_seconds: float = 60.0  # a backlog that would take longer to post sends P3 to the digest
    spike_window_minutes: float = 10.0  # a topic spikes with at least spike_min_mentions in this window…
    spike_min_mentions: int = 20
    spike_ratio: float = 4.0  # …and this many times its usual volume for the time of week
