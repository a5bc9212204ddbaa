"""Build the Slack app manifest (JSON) that creates a Webcare app with the right scopes."""

from __future__ import annotations

from urllib.parse import urlsplit

EVENTS_PATH = "/slack/events"
COMMAND = "/webcare"
USAGE_HINT = "help | mine | queue | stats [today|week] | storm <number> | playbooks | crisis …"
_NAME_LIMIT = 35  # Slack: display_information.name

# The bot-token scopes of every Web API method the code calls (tests/edges/slack/test_ops_slack_scopes.py finds the
# calls in bot/slack/ and compares them with this table), so the app asks for nothing it never uses.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),  # the workspace id of the token; `webcare doctor` checks the token with it
    "apps.connections.open": (),  # Socket Mode: the app-level token's connections:write, not a bot scope
    "chat.postMessage": ("chat:write",),  # cards, thread messages, notices
    "chat.update": ("chat:write",),  # a card or draft showing its current state
    "chat.postEphemeral": ("chat:write",),  # private answers to commands and clicks
    "views.open": (),  # dialogs (Escalate, Answer, Dismiss …) answer a click's trigger id
    "views.update": (),  # … and a saved reply picked in the Answer dialog fills in its text
    # A conversations.* method takes the scope of the kind of channel it acts on: `channels:*` for a public one,
    # `groups:*` for a private one. The triage channel may be either; crisis channels are private by default.
    "conversations.history": ("channels:history", "groups:history"),  # find an earlier post after a crash
    "conversations.replies": ("channels:history", "groups:history"),  # … and in a card's thread
    "conversations.info": ("channels:read", "groups:read"),  # `webcare doctor`: is the bot in the triage channel
    # A crisis' own channel: private (groups:write), or public for a playbook with `channel: public` (channels:manage).
    "conversations.create": ("groups:write", "channels:manage"),
    "conversations.invite": ("groups:write", "channels:manage"),  # … with its people
}
FEATURE_SCOPES = (
    "app_mentions:read",  # receive `app_mention` events: "@Webcare help" in a channel
    "commands",  # the /webcare slash command
)
BOT_SCOPES = tuple(dict.fromkeys([*FEATURE_SCOPES, *(s for scopes in METHOD_SCOPES.values() for s in scopes)]))


def build_manifest(*, url: str | None, socket_mode: bool, name: str = "Webcare") -> dict:
    """Return the app manifest; its request URLs are `<url>/slack/events` unless in Socket Mode."""
    if not socket_mode and url is None:
        raise ValueError("give the app's public https URL, or use Socket Mode (SLACK_APP_TOKEN)")
    if url is not None and not _is_https(url):
        raise ValueError(f"the app URL must start with https:// and name a host, got {url!r}")
    if not name or len(name) > _NAME_LIMIT:
        raise ValueError(f"the app name must be 1 to {_NAME_LIMIT} characters, got {name!r}")
    endpoint = f"{url.rstrip('/')}{EVENTS_PATH}" if url and not socket_mode else None
    with_url = {"request_url": endpoint} if endpoint else {}
    command = {
        "command": COMMAND,
        "description": "Your webcare queue, your claims, response-time stats and crisis playbooks",
        "usage_hint": USAGE_HINT,
        "should_escape": False,
    }
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "Triage social media mentions as a team: claim, escalate, answer.",
        },
        "features": {
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": [command | ({"url": endpoint} if endpoint else {})],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {**with_url, "bot_events": ["app_mention"]},
            "interactivity": {"is_enabled": True, **with_url},
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def _is_https(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)
