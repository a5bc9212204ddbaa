"""Durable outbound work: the relay that runs jobs, and the fanout that queues them per chat platform."""
