"""Sample views for the renderer tests: one mention card and one draft, changed per test with `replace`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.views import CardView, DraftState, DraftView, MentionState, PersonRef

NOW = datetime(2026, 11, 20, 10, 12, tzinfo=UTC)
POST = "https://x.com/sannedv/status/1991438273645195264"


def sample_card(**changes: object) -> CardView:
    """Sanne's undelivered-order mention, new, 12 minutes old, with whatever `changes` say."""
    view = CardView(
        mention_id=42, network="x", url=POST, author_handle="sannedv", author_name="Sanne de Vries",
        author_url="https://x.com/sannedv", author_followers=312, author_verified=False,
        text="@AcmeWebcare my order #48213 still hasn't arrived", published_at=NOW - timedelta(minutes=12),
        state=MentionState.NEW, now=NOW)
    return replace(view, **changes)


def sample_draft(*, author: PersonRef, approvers: tuple[PersonRef, ...], **changes: object) -> DraftView:
    """A draft reply on that mention, awaiting these approvers, with whatever `changes` say."""
    view = DraftView(id=7, mention_id=42, author=author, text="Sorry Sanne, we are on it.",
                     state=DraftState.AWAITING_APPROVAL, approvers=approvers)
    return replace(view, **changes)
