"""The ingest event schema (docs/contract.md §3), validated strictly; extra fields from listening tools are ignored."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    TypeAdapter,
    ValidationError,
    field_validator,
)

NETWORKS = frozenset({"x", "facebook", "instagram", "threads", "mastodon", "bluesky", "linkedin", "tiktok",
                      "youtube", "reddit", "web", "news", "blog", "forum", "review", "rss"})
REPLY_CONNECTORS = frozenset({"webhook", "mastodon"})
MAX_BATCH = 500
MAX_INT32 = 2**31 - 1

MAX_URL = 2000  # the columns' size; both renderers link URLs up to 2048 characters
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # no social network is older
FUTURE_SLACK = timedelta(days=1)  # a sender's clock or time zone may be off, not by more

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# WHATWG URL syntax, as browsers, Slack and Teams read links; strict: no tab or newline silently dropped.
_WEB_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl, config=ConfigDict(strict=True))


def _one_line(value: str) -> str:
    """Refuse control characters in a name or id: a line break there would forge a line on a card."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs, NUL…)")
    return value


def _web_address(value: str) -> str:
    """Refuse what a card cannot link to: only plain http(s) URLs that both renderers and browsers parse."""
    if not value.isprintable() or " " in value:  # every other space and control is not printable
        raise ValueError("must be an http(s) URL without spaces or invisible characters")
    try:
        _WEB_URL.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f"must be an http(s) URL ({exc.errors()[0]['msg']})") from None
    try:  # as the renderers parse it; `port` raises for one out of range
        parts = urlsplit(value)
        host, _port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"must be an http(s) URL ({exc})") from None
    if not host:
        raise ValueError("must be an http(s) URL with a host")
    return value


def _no_nul(value: str) -> str:
    """Refuse NUL, which PostgreSQL cannot store in text (customer text keeps every other character)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Short = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_one_line)]
WebAddress = Annotated[str, Field(max_length=MAX_URL), AfterValidator(_web_address)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class AuthorIn(_Strict):
    id: Short | None = None
    handle: Short | None = None
    display_name: Short | None = None
    profile_url: WebAddress | None = None
    followers: Annotated[int, Field(ge=0, le=MAX_INT32)] | None = None
    verified: bool = False


class MentionIn(_Strict):
    """One mention as a listening tool sends it."""

    source: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_one_line)]
    source_mention_id: Short
    network: str
    network_item_id: Short | None = None
    url: WebAddress | None = None
    kind: Annotated[str, Field(max_length=50), AfterValidator(_one_line)] | None = None
    in_reply_to_id: Short | None = None
    author: AuthorIn | None = None
    text: Annotated[str, Field(min_length=1, max_length=40_000), AfterValidator(_no_nul)]
    lang: Annotated[str, Field(max_length=20), AfterValidator(_one_line)] | None = None
    published_at: AwareDatetime
    reply_via: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("network")
    @classmethod
    def _known_network(cls, value: str) -> str:
        if value not in NETWORKS:
            raise ValueError(f"unknown network {value[:40]!r} (known: {', '.join(sorted(NETWORKS))})")
        return value

    @field_validator("reply_via")
    @classmethod
    def _known_connector(cls, value: str | None) -> str | None:
        if value is not None and value not in REPLY_CONNECTORS:
            raise ValueError(f"unknown reply connector {value[:40]!r} (known: {', '.join(sorted(REPLY_CONNECTORS))})")
        return value

    @field_validator("published_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None
        if utc < EARLIEST:
            raise ValueError("is before 1970")
        if utc > datetime.now(UTC) + FUTURE_SLACK:
            raise ValueError("is more than a day in the future")
        return value

    @field_validator("raw")
    @classmethod
    def _plain_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            raise ValueError("must not contain NaN or Infinity (they are not JSON)") from None
        return value


class MentionCreated(_Strict):
    type: Literal["mention.created"]
    timestamp: AwareDatetime | None = None
    data: MentionIn


class BatchData(_Strict):
    items: Annotated[list[MentionIn], Field(min_length=1, max_length=MAX_BATCH)]


class MentionBatch(_Strict):
    type: Literal["mention.batch"]
    timestamp: AwareDatetime | None = None
    data: BatchData


# A valid event is read in one pass, the model picked by `type`; this adapter's error paths start with
# the tag, so an invalid one is validated again by `_validate_by_type` to report its errors.
_EVENT = TypeAdapter(Annotated[MentionCreated | MentionBatch, Field(discriminator="type")])


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str


class SchemaError(Exception):
    """The event does not fit the schema; `errors` name each offending field path."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['path']}: {e['problem']}" for e in errors))
        self.errors = errors


def _problems(exc: ValidationError) -> list[dict[str, str]]:
    return [{"path": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)]


def parse_event(body: bytes | str) -> list[MentionIn]:
    """Validate a `mention.created` or `mention.batch` event; raise SchemaError naming every bad field."""
    try:
        event = _EVENT.validate_json(body)
    except ValidationError:
        raise SchemaError(_problems_by_type(body)) from None
    return [event.data] if isinstance(event, MentionCreated) else list(event.data.items)


def _problems_by_type(body: bytes | str) -> list[dict[str, str]]:
    """Read `type`, then validate that model: errors name paths as sent (`data.text`, not `mention.created.…`)."""
    try:
        kind = _Envelope.model_validate_json(body).type
    except ValidationError as exc:
        return _problems(exc)
    model: type[MentionCreated] | type[MentionBatch]
    if kind == "mention.created":
        model = MentionCreated
    elif kind == "mention.batch":
        model = MentionBatch
    else:
        return [{"path": "type", "problem": "must be 'mention.created' or 'mention.batch'"}]
    try:
        model.model_validate_json(body)
    except ValidationError as exc:
        return _problems(exc)
    return []

