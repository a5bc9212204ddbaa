"""Prometheus metrics of one app instance (its own registry, so tests and processes never share one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """Counters and gauges the app updates and `/metrics` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingested = Counter("webcare_mentions_ingested", "Mentions stored (not duplicates)", registry=self.registry)
        self.prioritised = Counter("webcare_mentions_priority", "Mentions stored, by priority level (P1–P3)",
                                   ["level"], registry=self.registry)
        self.duplicates = Counter("webcare_mentions_duplicate", "Mentions received again", registry=self.registry)
        self.posted = Counter("webcare_cards_posted", "Cards posted to a chat platform", ["platform"],
                              registry=self.registry)
        self.transitions = Counter("webcare_mention_transitions", "Lifecycle changes by action", ["action"],
                                   registry=self.registry)
        self.queue_depth = Gauge("webcare_outbox_queue_depth", "Outbound jobs waiting (as the relay last counted)",
                                 registry=self.registry)
        self.outbox_retries = Counter("webcare_outbox_retries", "Outbound jobs retried", ["kind"],
                                      registry=self.registry)
        self.outbox_failures = Counter("webcare_outbox_failures", "Outbound jobs that raised an error", ["kind"],
                                       registry=self.registry)
        self.outbox_given_up = Counter("webcare_outbox_given_up", "Outbound jobs given up on (failed for good)",
                                       ["kind"], registry=self.registry)
        self.outbox_failed = Gauge("webcare_outbox_failed_jobs", "Outbound jobs failed for good, waiting for people",
                                   ["kind"], registry=self.registry)
        self._failed_kinds: set[str] = set()
        self.replies = Counter("webcare_replies", "Reply deliveries by outcome", ["outcome"], registry=self.registry)
        self.rate_limited = Counter("webcare_chat_rate_limited", "Calls a chat platform refused with 429 (each waited "
                                    "out as asked)", ["platform"], registry=self.registry)

    def count_failed(self, by_kind: dict[str, int]) -> None:
        """Show how many jobs of each kind failed for good (a kind no longer failing shows 0)."""
        self._failed_kinds |= by_kind.keys()
        for kind in self._failed_kinds:
            self.outbox_failed.labels(kind=kind).set(by_kind.get(kind, 0))

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
