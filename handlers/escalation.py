"""Escalate a mention to departments whose heads must approve its reply."""

from __future__ import annotations

from bot.core import mentions as domain
from bot.core.access import Access
from bot.core.commands import Escalate
from bot.outbox.jobs import NoticeKind
from bot.storage.database import UnitOfWork
from bot.storage.models import Mention
from handlers.access import require_access
from handlers.context import Context, transition


async def escalate(cmd: Escalate, *, ctx: Context) -> None:
    """Pull the departments' heads into the mention's thread."""
    require_access(ctx, cmd.actor, Access.TEAM)
    known = set(ctx.config.departments)
    note = (cmd.note or "").strip() or None

    async def announce(uow: UnitOfWork, mention: Mention, decided: domain.Transition) -> None:
        audit_key = f"escalate:{mention.id}:{mention.version + 1}"
        await ctx.fanout.notice(uow.outbox, mention.id or 0, audit_key,
                                {"kind": NoticeKind.ESCALATION, "actor": cmd.actor.key,
                                 "actor_name": cmd.actor.ref.name, "departments": list(cmd.departments),
                                 "note": note}, ctx.clock())

    await transition(ctx, cmd.mention_id, cmd.actor,
                     lambda m: domain.escalate(m, cmd.actor, cmd.departments, known), announce)
