"""Core: the pure vocabulary and rules of mentions, commands, intents and crises (no I/O, no framework)."""
