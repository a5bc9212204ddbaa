"""Storage tests: migrations, raw SQL, the SQLite writer and the outbox tables, on SQLite and PostgreSQL."""
