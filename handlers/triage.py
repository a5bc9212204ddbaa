"""Claim, unclaim, dismiss, reopen and close a mention."""

from __future__ import annotations

from collections.abc import Callable

from bot.core import mentions as domain
from bot.core.access import Access
from bot.core.commands import Claim, Close, Dismiss, Reopen, Unclaim
from handlers.access import require_access
from handlers.context import Context, transition


async def _act(ctx: Context, mention_id: int, actor: domain.Actor,
               decide: Callable[[domain.MentionFacts], domain.Transition]) -> None:
    """Carry out one of the webcare team's decisions on a mention (anyone else is refused, nothing changes)."""
    require_access(ctx, actor, Access.TEAM)
    await transition(ctx, mention_id, actor, decide)


async def claim(cmd: Claim, *, ctx: Context) -> None:
    """Take a mention; whoever loses a simultaneous claim is told who has it."""
    await _act(ctx, cmd.mention_id, cmd.actor, lambda m: domain.claim(m, cmd.actor))


async def unclaim(cmd: Unclaim, *, ctx: Context) -> None:
    """Give a mention back to the queue."""
    await _act(ctx, cmd.mention_id, cmd.actor, lambda m: domain.unclaim(m, cmd.actor))


async def dismiss(cmd: Dismiss, *, ctx: Context) -> None:
    """Close a mention that needs no answer."""
    await _act(ctx, cmd.mention_id, cmd.actor, lambda m: domain.dismiss(m, cmd.actor, cmd.reason))


async def reopen(cmd: Reopen, *, ctx: Context) -> None:
    """Put a finished mention back in the queue."""
    await _act(ctx, cmd.mention_id, cmd.actor, lambda m: domain.reopen(m, cmd.actor))


async def close(cmd: Close, *, ctx: Context) -> None:
    """Mark an answered mention as finished."""
    await _act(ctx, cmd.mention_id, cmd.actor, lambda m: domain.close(m, cmd.actor))
