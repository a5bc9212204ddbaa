"""What the Answer dialog offers and promises: the saved replies for a mention, and the connector that sends it."""

from __future__ import annotations

from dataclasses import replace

from bot.core.replies import SavedReply, replies_dir, saved_replies
from bot.core.views import CardView
from handlers.context import Context


def connector_for(ctx: Context, reply_via: str | None) -> str | None:
    """The connector that delivers a reply to this mention from this server; None: it is posted by hand."""
    return reply_via if reply_via in ctx.connectors else None


def offered(ctx: Context, network: str, lang: str | None) -> tuple[SavedReply, ...]:
    """The saved replies for a mention on `network`: those in the post's language first, then by title."""
    first = (lang or "").lower()[:2]
    found = [r for r in saved_replies(replies_dir(ctx.playbooks_dir)) if r.offered_on(network)]
    return tuple(sorted(found, key=lambda r: (r.lang != first, r.lang, r.title.lower())))


def with_answering(ctx: Context, view: CardView) -> CardView:
    """The card as this server answers it: the connector that sends replies, and the saved replies on offer."""
    choices = tuple((r.key, r.label) for r in offered(ctx, view.network, view.lang))
    return replace(view, reply_via=connector_for(ctx, view.reply_via), saved_replies=choices)
