"""Slack edge: translate payloads to commands, render views to Block Kit, send through the Web API."""
