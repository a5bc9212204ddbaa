"""`webcare doctor`'s Teams check: the app id and password fetch a token from the Microsoft login, as the bot does."""

from __future__ import annotations

import re

from bot.chat.checks import Check, Status, in_daemon_thread
from bot.logs import describe
from bot.settings import Settings
from bot.teams.adapter import connector_client, create_adapter

# Any Bot Connector address will do: the token is for the Bot Framework, not for one service URL.
_PUBLIC_SERVICE_URL = "https://smba.trafficmanager.net/teams/"
_AADSTS = re.compile(r"AADSTS\d+: [^.\r\n]*\.?")


async def check_teams(settings: Settings, timeout: float) -> list[Check]:
    """Fetch a Bot Framework access token with MICROSOFT_APP_ID and MICROSOFT_APP_PASSWORD."""
    service_url = settings.teams_service_url or _PUBLIC_SERVICE_URL
    client = await connector_client(create_adapter(settings), settings.microsoft_app_id, service_url)
    try:
        # MSAL fetches the token with blocking `requests` calls that have no timeout of their own.
        async with client:
            await in_daemon_thread(client.config.credentials.get_access_token, timeout)
    except PermissionError as exc:  # botbuilder's way of saying the login refused the credentials
        found = _AADSTS.search(str(exc))
        reason = found.group(0) if found else "the credentials were refused"
        return [Check("teams credentials", Status.FAIL, f"the Microsoft login refused MICROSOFT_APP_ID "
                                                        f"{settings.microsoft_app_id}: {reason}")]
    except TimeoutError:
        return [Check("teams credentials", Status.FAIL, f"the Microsoft login did not answer within {timeout:g} s")]
    except Exception as exc:  # requests/MSAL raise many kinds for a login it cannot reach
        return [Check("teams credentials", Status.FAIL, f"could not reach the Microsoft login: {describe(exc)}")]
    return [Check("teams credentials", Status.OK, f"MICROSOFT_APP_ID {settings.microsoft_app_id} got a Bot "
                                                  "Framework token")]
