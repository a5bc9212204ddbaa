"""Local fakes of the external services the bot talks to."""
