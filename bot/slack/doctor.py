"""`webcare doctor`'s Slack checks: the bot token (auth.test) and the bot's membership of the triage channel."""

from __future__ import annotations

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat.checks import Check, Status
from bot.logs import describe
from bot.settings import Settings
from bot.slack.manifest import METHOD_SCOPES

_CHANNEL_SCOPES = " / ".join(METHOD_SCOPES["conversations.info"])


async def check_slack(settings: Settings, timeout: float) -> list[Check]:
    """Is the token accepted, and is the bot a member of SLACK_TRIAGE_CHANNEL?"""
    assert settings.slack_bot_token is not None
    client = AsyncWebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url,
                            timeout=max(1, int(timeout)), retry_handlers=[])
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        return [Check("slack token", Status.FAIL, f"auth.test refused SLACK_BOT_TOKEN ({error}): copy the Bot User "
                                                  "OAuth Token from the app's OAuth & Permissions page")]
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return [Check("slack token", Status.FAIL, f"Slack at {settings.slack_api_url} did not answer: "
                                                  f"{describe(exc)}")]
    token = Check("slack token", Status.OK, f"accepted: bot {auth.get('user')} in workspace {auth.get('team')} "
                                            f"({auth.get('team_id')})")
    return [token, await _channel(client, settings.slack_triage_channel)]


async def _channel(client: AsyncWebClient, channel: str | None) -> Check:
    name = "slack channel"
    if channel is None:
        return Check(name, Status.FAIL, "SLACK_TRIAGE_CHANNEL is not set: no cards will be posted")
    try:
        info = (await client.conversations_info(channel=channel))["channel"]
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error == "missing_scope":
            return Check(name, Status.FAIL, f"the token may not look at channels ({_CHANNEL_SCOPES} missing): "
                                            "update the app from `webcare slack-manifest` and reinstall it")
        if error == "channel_not_found":
            return Check(name, Status.FAIL, f"{channel} not found (a private channel the bot is not in looks "
                                            "the same): check SLACK_TRIAGE_CHANNEL, then /invite the bot there")
        return Check(name, Status.FAIL, f"conversations.info refused {channel} ({error})")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Check(name, Status.FAIL, f"Slack did not answer: {describe(exc)}")
    shown = f"#{info.get('name')} ({channel})" if info.get("name") else channel
    if info.get("is_archived"):
        return Check(name, Status.FAIL, f"{shown} is archived: cards cannot be posted there")
    if not info.get("is_member"):
        return Check(name, Status.FAIL, f"the bot is not a member of {shown}: type /invite @<bot name> there")
    return Check(name, Status.OK, f"the bot is a member of {shown}")
