"""Benchmarks, each run from the repository root as `python -m bench.<name>`; see STYLE.md rule 12."""
