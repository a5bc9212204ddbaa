"""Webcare triage bot: social mentions as claimable cards in Slack and Microsoft Teams."""
