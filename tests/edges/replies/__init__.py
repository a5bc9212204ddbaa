"""Reply connector tests: the webhook and Mastodon connectors against local receivers."""
