"""Microsoft Graph's wire format for Teams channel messages (chatMessage), as the fake Bot Connector serves it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_TOP = 50  # Graph refuses bigger pages of channel messages
DEFAULT_TOP = 20


def stamp(moment: datetime) -> str:
    """Graph's timestamps: UTC with milliseconds and a Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def chat_message(activity: dict[str, Any], *, team: str, channel: str, root: str, sender: str | None,
                 created: datetime, modified: datetime) -> dict[str, Any]:
    """A posted activity as Graph lists it: cards become attachments whose `content` is a JSON string."""
    attachments, body = [], [str(activity.get("text") or "")]
    for attachment in activity.get("attachments") or []:
        attachment_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{activity['id']}/{len(attachments)}").hex
        content = attachment.get("content")
        attachments.append({
            "id": attachment_id, "contentType": attachment.get("contentType"), "contentUrl": None,
            # Teams stores the card as text, pretty-printed with CRLF line ends
            "content": json.dumps(content, indent=2).replace("\n", "\r\n") if content is not None else None,
            "name": None, "thumbnailUrl": None, "teamsAppId": None})
        body.append(f'<attachment id="{attachment_id}"></attachment>')
    message_id = str(activity["id"])
    link = (f"https://teams.microsoft.com/l/message/{quote(channel, safe='')}/{message_id}?groupId={team}"
            f"&parentMessageId={root}")
    return {
        "@odata.type": "#microsoft.graph.chatMessage",
        "id": message_id, "replyToId": None if root == message_id else root, "etag": message_id,
        "messageType": "message", "createdDateTime": stamp(created), "lastModifiedDateTime": stamp(modified),
        "lastEditedDateTime": None if modified == created else stamp(modified), "deletedDateTime": None,
        "subject": None, "summary": None, "chatId": None, "importance": "normal", "locale": "en-us", "webUrl": link,
        "policyViolation": None, "eventDetail": None,
        "from": {"application": {"@odata.type": "#microsoft.graph.teamworkApplicationIdentity", "id": sender,
                                 "displayName": "Webcare", "applicationIdentityType": "bot"},
                 "device": None, "user": None},
        "body": {"contentType": "html", "content": "".join(body)},
        "channelIdentity": {"teamId": team, "channelId": channel},
        "attachments": attachments, "mentions": [], "reactions": [], "messageHistory": [],
    }


class GraphError(Exception):
    """An error answer of Graph: `{"error": {"code", "message", "innerError"}}`."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after

    def response(self) -> web.Response:
        """The answer Graph gives for this error (with `Retry-After` when it has one)."""
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        inner = {"date": stamp(datetime.now(UTC)), "request-id": str(uuid.uuid4()),
                 "client-request-id": str(uuid.uuid4())}
        return web.json_response({"error": {"code": self.code, "message": self.message, "innerError": inner}},
                                 status=self.status, headers=headers)


def delta_query(query: Any) -> tuple[int, datetime | None, bool]:
    """`$top`, the `lastModifiedDateTime gt` bound, and whether replies are expanded."""
    try:
        top = int(query.get("$top", DEFAULT_TOP))
    except ValueError:
        raise GraphError(400, "BadRequest", "Invalid value for $top.") from None
    if not 1 <= top <= MAX_TOP:
        raise GraphError(400, "BadRequest", f"The value of $top must be between 1 and {MAX_TOP}.")
    since = None
    if "$filter" in query:
        field, _, rest = query["$filter"].partition(" gt ")
        try:
            if field.strip() != "lastModifiedDateTime":
                raise ValueError(field)
            since = datetime.fromisoformat(rest.strip().replace("Z", "+00:00"))
        except ValueError:
            raise GraphError(400, "BadRequest", "Only lastModifiedDateTime gt <time> is supported.") from None
    expand = query.get("$expand")
    if expand not in (None, "replies"):
        raise GraphError(400, "BadRequest", "Only replies can be expanded.")
    return top, since, expand == "replies"
