"""Core tests: the rules, the grammar and the use cases, with fakes and a real database, no network."""
