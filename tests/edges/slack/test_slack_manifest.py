"""Slack app manifest: the /webcare command, one request URL, and Socket Mode without URLs."""

from __future__ import annotations

import json

import pytest

from bot.slack.manifest import build_manifest


def test_http_manifest_points_everything_at_slack_events() -> None:
    manifest = build_manifest(url="https://webcare.example.com/", socket_mode=False)
    endpoint = "https://webcare.example.com/slack/events"
    settings = manifest["settings"]
    assert settings["event_subscriptions"] == {"request_url": endpoint, "bot_events": ["app_mention"]}
    assert settings["interactivity"] == {"is_enabled": True, "request_url": endpoint}
    assert settings["socket_mode_enabled"] is False
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/webcare"
    assert command["url"] == endpoint
    assert command["usage_hint"] == "help | mine | queue | stats [today|week] | storm <number> | playbooks | crisis …"


def test_socket_mode_manifest_has_no_urls() -> None:
    manifest = build_manifest(url=None, socket_mode=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["app_mention"]
    assert "https://" not in json.dumps(manifest)
    assert manifest["features"]["slash_commands"][0]["command"] == "/webcare"


def test_manifest_asks_for_the_scopes_the_bot_uses() -> None:
    scopes = build_manifest(url=None, socket_mode=True)["oauth_config"]["scopes"]["bot"]
    assert scopes == [
        "app_mentions:read", "commands", "chat:write",
        "channels:history", "groups:history",  # find a lost post in a public or private channel
        "channels:read", "groups:read",  # `webcare doctor` looks at the triage channel, public or private
        "groups:write", "channels:manage",  # private crisis channels; public ones where a playbook says so
    ]
    # Nothing reads users, DMs or other workspaces' channels: names come from webcare.toml and payloads.
    assert not [s for s in scopes if s.startswith(("users:", "im:", "mpim:", "channels:join", "chat:write."))]


def test_manifest_names_the_app_and_its_bot() -> None:
    manifest = build_manifest(url="https://w.example", socket_mode=False, name="Acme Webcare")
    assert manifest["display_information"]["name"] == "Acme Webcare"
    assert manifest["features"]["bot_user"]["display_name"] == "Acme Webcare"


@pytest.mark.parametrize(
    ("url", "socket_mode", "complaint"),
    [
        (None, False, "public https URL, or use Socket Mode"),
        ("http://webcare.example.com", False, "must start with https://"),
        ("webcare.example.com", False, "must start with https://"),
        ("https://", True, "must start with https://"),
    ],
)
def test_manifest_refuses_what_slack_would_reject(
    url: str | None, socket_mode: bool, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint.replace("?", r"\?")):
        build_manifest(url=url, socket_mode=socket_mode)


def test_manifest_refuses_a_name_slack_would_cut() -> None:
    with pytest.raises(ValueError, match="1 to 35 characters"):
        build_manifest(url=None, socket_mode=True, name="W" * 36)
