"""Mention ingest: the signed HTTP route, its schema, and the JSONL importer."""
