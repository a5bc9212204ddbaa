"""Slack edge tests: signed requests in, calls to the local fake Slack Web API out."""
