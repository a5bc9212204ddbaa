"""The Slack manifest asks for exactly the scopes of the Web API methods the code calls, no more, no less."""

from __future__ import annotations

import ast
from pathlib import Path

from slack_sdk.web.async_base_client import AsyncBaseClient
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.manifest import BOT_SCOPES, FEATURE_SCOPES, METHOD_SCOPES, build_manifest

SLACK_CODE = Path(__file__).parents[3] / "bot" / "slack"
WEB_API = {name for name in vars(AsyncWebClient) if not name.startswith("_")} - set(dir(AsyncBaseClient))


def called_methods(directory: Path) -> dict[str, list[str]]:
    """Every Web API method named in the code (`client.chat_postMessage` is `chat.postMessage`), with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in WEB_API:
                found.setdefault(node.attr.replace("_", "."), []).append(f"{path.name}:{node.lineno}")
    return found


def test_the_scan_knows_slack_method_names():
    assert {"chat_postMessage", "conversations_info", "users_info", "apps_connections_open"} <= WEB_API
    assert "api_call" not in WEB_API and "token" not in WEB_API


def test_every_method_the_code_calls_is_in_the_scope_table_and_nothing_else():
    called = called_methods(SLACK_CODE)
    unlisted = {m: where for m, where in called.items() if m not in METHOD_SCOPES}
    assert not unlisted, f"add these methods and their scopes to METHOD_SCOPES in bot/slack/manifest.py: {unlisted}"
    unused = sorted(set(METHOD_SCOPES) - set(called))
    assert not unused, f"METHOD_SCOPES lists methods the code never calls: {unused}"


def test_the_manifest_asks_only_for_scopes_the_calls_and_features_need():
    scopes = build_manifest(url=None, socket_mode=True)["oauth_config"]["scopes"]["bot"]
    needed = set(FEATURE_SCOPES) | {s for method in called_methods(SLACK_CODE) for s in METHOD_SCOPES[method]}
    assert set(scopes) == needed and list(scopes) == list(BOT_SCOPES) and len(scopes) == len(set(scopes))
    assert "users:read" not in scopes  # nothing calls users.info: names come from webcare.toml and payloads
