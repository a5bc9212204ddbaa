"""App tests: the whole server through its factory, the CLI, and real processes for crash and race tests."""
