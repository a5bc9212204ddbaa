"""Benchmarks, run from the repository root as `python -m bench.<name>`; each compares the bot to a bare baseline."""
