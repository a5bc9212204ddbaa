"""The ingest event schema (DESIGN.md §4), validated strictly; extra fields from listening tools are ignored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

NETWORKS = frozenset({"x", "facebook", "instagram", "threads", "mastodon", "bluesky", "linkedin", "tiktok",
                      "youtube", "reddit", "web", "news", "blog", "forum", "review", "rss"})
REPLY_CONNECTORS = frozenset({"webhook", "mastodon"})
MAX_BATCH = 500
MAX_INT32 = 2**31 - 1

Short = Annotated[str, Field(min_length=1, max_length=500)]


def _http_only(value: str | None) -> str | None:
    if value is not None and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s) URL")
    return value


class _Strict(BaseModel):
    # Text fields must not hold NUL (PostgreSQL cannot store it in text): see `_nul_problems`.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


class AuthorIn(_Strict):
    id: Short | None = None
    handle: Short | None = None
    display_name: Short | None = None
    profile_url: Annotated[str, Field(max_length=2000)] | None = None
    followers: Annotated[int, Field(ge=0, le=MAX_INT32)] | None = None
    verified: bool = False

    @field_validator("profile_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http_only(value)


class MentionIn(_Strict):
    """One mention as a listening tool sends it."""

    source: Annotated[str, Field(min_length=1, max_length=100)]
    source_mention_id: Short
    network: str
    network_item_id: Short | None = None
    url: Annotated[str, Field(max_length=2000)] | None = None
    kind: Annotated[str, Field(max_length=50)] | None = None
    in_reply_to_id: Short | None = None
    author: AuthorIn | None = None
    text: Annotated[str, Field(min_length=1, max_length=40_000)]
    lang: Annotated[str, Field(max_length=20)] | None = None
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
    def _utc_representable(cls, value: datetime) -> datetime:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range once converted to UTC") from None
        return value

    @field_validator("raw")
    @classmethod
    def _plain_json(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            raise ValueError("must not contain NaN or Infinity (they are not JSON)") from None
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _http_only(value)


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
    nul = _nul_problems(body)
    try:
        event = _EVENT.validate_json(body)
    except ValidationError:
        raise SchemaError(_problems_by_type(body) + nul) from None
    if nul:
        raise SchemaError(nul)
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


def _nul_problems(body: bytes | str) -> list[dict[str, str]]:
    """The text fields holding NUL, which PostgreSQL cannot store in text.

    JSON can carry NUL only as the escape `\\u0000`, so a body without one is passed at the cost of a
    substring search instead of a check of every field.
    """
    if (b"\\u0000" if isinstance(body, bytes) else "\\u0000") not in body:
        return []
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep: validation says so
        return []
    data = event.get("data") if isinstance(event, dict) else None
    if not isinstance(data, dict):
        return []
    items = data.get("items") if event.get("type") == "mention.batch" else None
    mentions = [(f"data.items.{i}", item) for i, item in enumerate(items)] if isinstance(items, list) \
        else [("data", data)]
    found = []
    for path, mention in mentions:
        if isinstance(mention, dict):
            found += _nul_fields(path, mention, MentionIn)
            if isinstance(mention.get("author"), dict):
                found += _nul_fields(f"{path}.author", mention["author"], AuthorIn)
    return found


def _nul_fields(path: str, fields: dict[str, Any], model: type[BaseModel]) -> list[dict[str, str]]:
    return [{"path": f"{path}.{name}", "problem": "must not contain NUL characters"}
            for name, value in fields.items()
            if name in model.model_fields and name != "raw" and isinstance(value, str) and "\x00" in value]
