"""Use cases of the webcare bot, free of any chat platform."""
