"""Ingest edge tests: signed Standard Webhooks deliveries against the real route."""
