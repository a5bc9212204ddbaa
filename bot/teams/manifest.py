"""Build the Teams app package (manifest.json and two icons, zipped) that installs the Webcare bot."""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib.resources import files

MANIFEST_VERSION = "1.22"  # a GA schema; a bot-only manifest reads the same in every later one
SCHEMA_URL = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
SCOPES = ("team", "personal")  # cards and crisis commands live in a team channel; `mine` etc. also in a 1:1 chat
# Every command of bot.core.intents' grammar, in the menu of the scope it belongs to (Teams shows at most 10 per menu).
COMMANDS = (
    ("help", "What the bot does and the commands it knows", SCOPES),
    ("mine", "The mentions you have claimed and not yet answered", ("personal",)),
    ("queue", "Mentions nobody has claimed yet, oldest first", SCOPES),
    ("stats", "Response times against the SLA: stats today or stats week", SCOPES),
    ("storm", "storm <number>: every member of a storm group, the most urgent first", ("team",)),
    ("playbooks", "The crisis playbooks you can start", SCOPES),
    ("crisis start", "crisis start <playbook> [--drill] [note]: run a playbook's checklist here", ("team",)),
    ("crisis status", "The running crisis' checklist: what is done, what is due", SCOPES),
    ("crisis done", "crisis done <step> [note]: mark a step done", SCOPES),
    ("crisis skip", "crisis skip <step> <reason>: skip an optional step (the lead)", SCOPES),
    ("crisis end", "crisis end [--force <reason>]: end the crisis when its steps are done", SCOPES),
    ("crisis report", "crisis report [<number>]: the timeline of a crisis", ("personal",)),  # 10 a menu at most
)
# Resource-specific consent: read the team's channel messages, to find a card whose post answer was lost.
RSC_PERMISSIONS = ({"name": "ChannelMessage.Read.Group", "type": "Application"},)
ICONS = ("color.png", "outline.png")
_NAME_LIMIT = 30  # manifest: name.short
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HOST = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}|localhost")
_SEMVER = re.compile(r"\d+\.\d+\.\d+")
_STAMP = (2024, 1, 1, 0, 0, 0)  # fixed zip timestamps: the same input gives the same bytes


def build_app_package(*, app_id: str, host: str, name: str = "Webcare", version: str = "1.0.0") -> bytes:
    """Return the app package to upload in Teams: manifest.json, color.png and outline.png.

    `app_id` is the bot's Microsoft App ID (a GUID; also the Teams app id); `host` is the public
    host name the bot is served from, without scheme, port or path; `version` (like 1.0.0) must
    grow with each package uploaded for the same app. Raise ValueError otherwise.
    """
    manifest = build_manifest(app_id=app_id, host=host, name=name, version=version)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        _add(package, "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
        for icon in ICONS:
            _add(package, icon, files("bot.teams").joinpath("icons", icon).read_bytes())
    return buffer.getvalue()


def build_manifest(*, app_id: str, host: str, name: str = "Webcare", version: str = "1.0.0") -> dict:
    """Return the manifest.json content of the app package (validated like `build_app_package`)."""
    app_id, host = _check_app_id(app_id), _check_host(host)
    if not name.strip() or len(name) > _NAME_LIMIT:
        raise ValueError(f"the app name must be 1 to {_NAME_LIMIT} characters, got {name!r}")
    if not _SEMVER.fullmatch(version):
        raise ValueError(f"the app version must look like 1.0.0, got {version!r}")
    site = f"https://{host}/"
    menus = [{"scopes": [scope], "commands": [{"title": title, "description": description}
                                              for title, description, scopes in COMMANDS if scope in scopes]}
             for scope in SCOPES]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id,
        "developer": {"name": name, "websiteUrl": site, "privacyUrl": site, "termsOfUseUrl": site},
        "name": {"short": name, "full": f"{name}: social media triage"},
        "description": {
            "short": "Triage social media mentions as a team: claim, escalate, answer.",
            "full": (
                "Every mention of the brand becomes a card in the triage channel. Claim it, escalate "
                "it to department heads (who approve the reply), answer it or dismiss it, and follow "
                "crisis playbooks step by step. Ask the bot for your claims, the queue and response-time stats."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#2563EB",
        "bots": [{
            "botId": app_id,
            "scopes": list(SCOPES),
            "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": menus,
        }],
        "validDomains": [host],
        # RSC needs the app's Entra id here; `resource` is required but unused by RSC.
        "webApplicationInfo": {"id": app_id, "resource": site.rstrip("/")},
        "authorization": {"permissions": {"resourceSpecific": [dict(p) for p in RSC_PERMISSIONS]}},
    }


def _check_app_id(app_id: str) -> str:
    if not _GUID.fullmatch(app_id.strip()):
        raise ValueError(f"the app id must be the bot's Microsoft App ID, a GUID like "
                         f"00000000-0000-0000-0000-000000000000; got {app_id!r}")
    return app_id.strip().lower()


def _check_host(host: str) -> str:
    bare = host.strip().lower()
    if not _HOST.fullmatch(bare):
        raise ValueError(f"the host must be a bare host name like webcare.example.com "
                         f"(no https://, port or path); got {host!r}")
    return bare


def _add(package: zipfile.ZipFile, name: str, data: bytes) -> None:
    entry = zipfile.ZipInfo(name, date_time=_STAMP)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    package.writestr(entry, data)
