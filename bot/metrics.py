"""Prometheus metrics of one app instance (its own registry, so tests and processes never share one)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


class Metrics:
    """Counters and gauges the app updates and `/metrics` exposes."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.ingested = Counter("webcare_mentions_ingested", "Mentions stored (not duplicates)", registry=self.registry)
        self.duplicates = Counter("webcare_mentions_duplicate", "Mentions received again", registry=self.registry)
        self.posted = Counter("webcare_cards_posted", "Cards posted to a chat platform", ["platform"],
                              registry=self.registry)
        self.transitions = Counter("webcare_mention_transitions", "Lifecycle changes by action", ["action"],
                                   registry=self.registry)
        self.queue_depth = Gauge("webcare_outbox_queue_depth", "Outbound jobs waiting", registry=self.registry)
        self.outbox_retries = Counter("webcare_outbox_retries", "Outbound jobs retried", ["kind"],
                                      registry=self.registry)
        self.outbox_failures = Counter("webcare_outbox_failures", "Outbound jobs that raised an error", ["kind"],
                                       registry=self.registry)
        self.replies = Counter("webcare_replies", "Reply deliveries by outcome", ["outcome"], registry=self.registry)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
