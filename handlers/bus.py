"""The command bus: one handler per command type, and a hook that wakes the outbox relay after changes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from bot.core import commands as c
from handlers import answering, crisis, escalation, messages, reporting, spikes, storms, triage
from handlers.context import Context

HANDLERS: dict[type, Callable[..., Awaitable[Any]]] = {
    c.Claim: triage.claim,
    c.Unclaim: triage.unclaim,
    c.Dismiss: triage.dismiss,
    c.Reopen: triage.reopen,
    c.Close: triage.close,
    c.Escalate: escalation.escalate,
    c.PrepareAnswer: answering.prepare_answer,
    c.SubmitReply: answering.submit_reply,
    c.Approve: answering.approve,
    c.RequestChanges: answering.request_changes,
    c.RetryDelivery: answering.retry_delivery,
    c.RetryReply: answering.retry_reply,
    c.ShowMine: reporting.show_mine,
    c.ShowQueue: reporting.show_queue,
    c.ShowStats: reporting.show_stats,
    c.ListPlaybooks: crisis.list_playbooks,
    c.StartCrisis: crisis.start_crisis,
    c.ShowCrisis: crisis.show_crisis,
    c.CompleteStep: crisis.complete_step,
    c.SkipStep: crisis.skip_step,
    c.EndCrisis: crisis.end_crisis,
    c.ReportCrisis: crisis.report_crisis,
    c.LinkMention: crisis.link_mention,
    c.UnlinkMention: crisis.unlink_mention,
    c.LearnChannel: messages.learn_channel,
    c.ClaimStorm: storms.claim_storm,
    c.AnswerStorm: storms.answer_storm,
    c.DismissStorm: storms.dismiss_storm,
    c.ShowStorm: storms.show_storm,
    c.StartStormCrisis: storms.start_storm_crisis,
    c.StartSpikeCrisis: spikes.start_crisis,
    c.DismissSpike: spikes.not_now,
}
QUERIES = (c.PrepareAnswer, c.ShowMine, c.ShowQueue, c.ShowStats, c.ListPlaybooks, c.ShowCrisis, c.ShowStorm)


class Bus:
    """Runs a command's handler with the app's context."""

    def __init__(self, ctx: Context, on_change: Callable[[], None] = lambda: None) -> None:
        self.ctx = ctx
        self._on_change = on_change

    async def dispatch(self, command: object) -> Any:
        """Carry out one command; DomainError propagates with its user message."""
        result = await HANDLERS[type(command)](command, ctx=self.ctx)
        if not isinstance(command, QUERIES):
            self._on_change()
        return result
