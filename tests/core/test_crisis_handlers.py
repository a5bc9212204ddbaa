"""Core: crises against a real database (SQLite and PostgreSQL): steps, the reply gate, links, reminders, the end."""

import asyncio
import dataclasses
import json
import shutil
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.core import commands as c
from bot.core.incoming import MentionIn
from bot.core.mentions import Actor, DomainError, IllegalTransition, NotAllowed
from bot.core.views import PersonRef
from bot.outbox.fanout import Fanout
from bot.storage.database import Database
from bot.storage.models import Audit, Crisis, CrisisStep, Draft, Mention, OutboxJob
from handlers import answering, crisis, privacy
from handlers.context import Context
from handlers.ingest import ingest
from tests.support import TEAM_PLAYBOOKS, mention_data, team_config

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CONFIG = team_config()
CONFIRM, HOLDING, LEGAL, ALL_CLEAR = ("confirm-the-outage", "approve-the-holding-statement", "brief-legal",
                                      "post-the-all-clear")


def who(key: str) -> Actor:
    person = CONFIG.people[key]
    return Actor(person.ref, person.roles)


ANNA, BRAM, CARLA, DIRK, EVA = (who(k) for k in ("anna", "bram", "carla", "dirk", "eva"))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
async def ctx(database_url, tmp_path):
    playbooks = tmp_path / "playbooks"
    shutil.copytree(TEAM_PLAYBOOKS, playbooks)
    db = Database(database_url)
    yield Context(db=db, config=CONFIG, fanout=Fanout(("slack",)), clock=Clock(), playbooks_dir=playbooks,
                  connectors=frozenset({"webhook"}))  # mentions given reply_via="webhook" are answered through it
    await db.dispose()


async def rows(ctx, model, *where):
    async with ctx.db.uow() as uow:
        return list((await uow.session.exec(select(model).where(*where).order_by(col(model.id)))).all())


async def start(ctx, playbook="outage", **kw) -> int:
    started = await crisis.start_crisis(c.StartCrisis(ANNA, playbook, **kw), ctx=ctx)
    return started.checklist.id


async def new_mention(ctx, n=1, text="De app werkt niet sinds vanochtend", **overrides) -> int:
    data = mention_data(n, published_at="2026-11-20T08:55:00Z", text=text, **overrides)
    [result] = await ingest([MentionIn.model_validate_json(json.dumps(data))], ctx=ctx)
    return result.id


async def done(ctx, actor, step, crisis_id=None, note=None):
    return await crisis.complete_step(c.CompleteStep(actor, step, note, crisis_id=crisis_id), ctx=ctx)


async def actions(ctx, crisis_id):
    return [(a.actor, a.action) for a in await rows(ctx, Audit, Audit.crisis_id == crisis_id)]


async def test_start_freezes_the_playbook_and_later_edits_change_only_later_crises(ctx):
    first = await start(ctx)
    path = ctx.playbooks_dir / "outage.md"
    path.write_text(path.read_text().replace("## Brief legal\n- owner: legal\n- optional: true\n", ""))
    [stored] = await rows(ctx, Crisis)
    assert "## Brief legal" in stored.playbook_text and len(stored.version) == 64  # sha256: not in a git tree
    view = await crisis.show_crisis(c.ShowCrisis(ANNA, crisis_id=first), ctx=ctx)
    assert [s.id for s in view.steps] == [CONFIRM, HOLDING, LEGAL, ALL_CLEAR]
    second = await start(ctx, drill=True)
    later = await crisis.show_crisis(c.ShowCrisis(ANNA, crisis_id=second), ctx=ctx)
    assert [s.id for s in later.steps] == [CONFIRM, HOLDING, ALL_CLEAR] and later.version != view.version
    assert await actions(ctx, first) == [("anna", "crisis_started")]
    assert await actions(ctx, second) == [("anna", "drill_started")]


async def test_unknown_playbook_suggests_the_closest(ctx):
    with pytest.raises(DomainError, match="Did you mean: outage"):
        await start(ctx, "outtage")


async def test_steps_in_order_by_owners_or_lead_and_every_refusal_is_audited(ctx):
    crisis_id = await start(ctx)
    with pytest.raises(IllegalTransition, match="first: Confirm the outage"):
        await done(ctx, BRAM, HOLDING)
    with pytest.raises(NotAllowed, match="Only a member of webcare or a member of crisis-lead"):
        await done(ctx, DIRK, CONFIRM)
    changed = await done(ctx, CARLA, CONFIRM, note="status page red")
    assert changed.checklist.steps[0].by.name == "Carla Smit" and changed.checklist.steps[1].status == "next"
    assert [(s.step_id, s.outcome, s.by, s.note) for s in await rows(ctx, CrisisStep)] == [
        (CONFIRM, "done", "carla", "status page red")]
    assert await actions(ctx, crisis_id) == [("anna", "crisis_started"), ("bram", "step_refused"),
                                             ("dirk", "step_refused"), ("carla", "step_done")]


async def test_two_people_marking_the_same_step_done_at_once_record_it_once(ctx):
    await start(ctx)
    outcomes = await asyncio.gather(done(ctx, CARLA, CONFIRM), done(ctx, ANNA, CONFIRM), return_exceptions=True)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(refused) == 1 and "already done" in str(refused[0])
    assert len(await rows(ctx, CrisisStep)) == 1


async def test_only_the_lead_skips_and_only_optional_steps_with_a_reason(ctx):
    crisis_id = await start(ctx)
    with pytest.raises(NotAllowed, match="Only a member of crisis-lead can skip"):
        await crisis.skip_step(c.SkipStep(CARLA, LEGAL, "not needed"), ctx=ctx)
    with pytest.raises(IllegalTransition, match="required"):
        await crisis.skip_step(c.SkipStep(ANNA, CONFIRM, "obvious"), ctx=ctx)
    changed = await crisis.skip_step(c.SkipStep(EVA, LEGAL, "no legal angle"), ctx=ctx)
    assert changed.checklist.steps[2].status == "skipped" and changed.checklist.steps[2].note == "no legal angle"
    assert (await actions(ctx, crisis_id))[-1] == ("eva", "step_skipped")


async def test_a_reply_waits_for_the_holding_statement_then_needs_a_second_lead(ctx):
    crisis_id = await start(ctx)
    mention_id = await new_mention(ctx, reply_via="webhook")
    [linked] = await rows(ctx, Mention)
    assert linked.crisis_id == crisis_id  # "werkt niet" is a trigger
    with pytest.raises(NotAllowed, match="wait for “Approve the holding statement” \\(owner: corporate-communications"):
        await answering.prepare_answer(c.PrepareAnswer(mention_id, ANNA), ctx=ctx)
    with pytest.raises(NotAllowed, match="Approve the holding statement"):
        await answering.submit_reply(c.SubmitReply(mention_id, ANNA, "We kijken ernaar"), ctx=ctx)
    assert await rows(ctx, Draft) == []
    assert [a.action for a in await rows(ctx, Audit, Audit.mention_id == mention_id)][-2:] == [
        "reply_refused", "reply_refused"]

    await done(ctx, CARLA, CONFIRM)
    await done(ctx, BRAM, HOLDING)
    form = await answering.prepare_answer(c.PrepareAnswer(mention_id, ANNA), ctx=ctx)
    assert form.needs_approval and [p.key for p in form.approvers] == ["eva"]
    assert form.templates[0].startswith("We weten van de storing") and len(form.templates) == 2
    await answering.submit_reply(c.SubmitReply(mention_id, ANNA, form.templates[0]), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.approvers, draft.crisis_id) == ("awaiting_approval", ["eva"], crisis_id)
    with pytest.raises(NotAllowed, match="Four eyes"):
        await answering.approve(c.Approve(draft.id, ANNA), ctx=ctx)
    with pytest.raises(NotAllowed, match="Only a member of crisis-lead can approve"):
        await answering.approve(c.Approve(draft.id, BRAM), ctx=ctx)
    await answering.approve(c.Approve(draft.id, EVA), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert (draft.state, draft.decided_by) == ("sending", "eva")


async def test_hold_policy_refuses_every_reply_even_after_the_gate(ctx):
    await start(ctx, "rumour")
    mention_id = await new_mention(ctx, text="Klopt het dat er een overname komt?")
    await done(ctx, ANNA, "decide-the-line")
    with pytest.raises(NotAllowed, match="on hold"):
        await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Geen commentaar"), ctx=ctx)


async def test_a_drill_takes_no_real_mentions_and_gates_no_replies(ctx):
    drill = await start(ctx, drill=True)
    mention_id = await new_mention(ctx)
    [stored] = await rows(ctx, Mention)
    assert stored.crisis_id is None  # triggers link only to real crises
    await crisis.link_mention(c.LinkMention(mention_id, CARLA, drill), ctx=ctx)
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "Sorry, we kijken ernaar"), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    assert draft.state == "by_hand" and draft.crisis_id is None  # answered at once: no gate, no approval


async def test_triggers_match_whole_words_and_phrases_in_any_case(ctx):
    crisis_id = await start(ctx)
    texts = ["Grote STORING bij jullie?", "De website Werkt   Niet", "outages elsewhere", "storingsmelding gedaan"]
    ids = [await new_mention(ctx, n, text=text) for n, text in enumerate(texts, 1)]
    linked = {m.id: m.crisis_id for m in await rows(ctx, Mention)}
    assert [linked[i] for i in ids] == [crisis_id, crisis_id, None, None]
    assert (await crisis.show_crisis(c.ShowCrisis(ANNA, crisis_id=crisis_id), ctx=ctx)).linked == 2
    jobs = await rows(ctx, OutboxJob, OutboxJob.key == f"slack:crisis:{crisis_id}")
    assert jobs and jobs[0].generation >= 2  # the checklist shows the new count


async def test_link_and_unlink_by_hand(ctx):
    crisis_id = await start(ctx)
    mention_id = await new_mention(ctx, text="Iets heel anders")
    changed = await crisis.link_mention(c.LinkMention(mention_id, CARLA), ctx=ctx)
    assert changed.checklist.linked == 1
    with pytest.raises(NotAllowed, match="Only a member of crisis-lead or a webcare lead"):
        await crisis.unlink_mention(c.UnlinkMention(mention_id, CARLA), ctx=ctx)
    await crisis.unlink_mention(c.UnlinkMention(mention_id, EVA), ctx=ctx)
    [stored] = await rows(ctx, Mention)
    assert stored.crisis_id is None
    assert [a for _, a in await actions(ctx, crisis_id)][-3:] == ["crisis_link", "unlink_refused", "crisis_unlink"]


async def test_commands_act_on_the_crisis_of_their_place_else_the_only_one_else_ask(ctx):
    with pytest.raises(DomainError, match="No crisis is running"):
        await crisis.show_crisis(c.ShowCrisis(ANNA), ctx=ctx)
    real = await start(ctx)
    assert (await crisis.show_crisis(c.ShowCrisis(ANNA), ctx=ctx)).id == real
    drill = await start(ctx, drill=True)
    with pytest.raises(DomainError, match=f"Several crises are running: #{real} Service outage, #{drill} "
                                          f"Service outage \\(drill\\)"):
        await done(ctx, CARLA, CONFIRM)
    await done(ctx, CARLA, CONFIRM, crisis_id=drill)
    assert [s.crisis_id for s in await rows(ctx, CrisisStep)] == [drill]


async def test_overdue_steps_remind_the_owner_then_the_lead_each_once(ctx):
    crisis_id = await start(ctx)
    assert await crisis.remind_overdue(ctx) == 0
    ctx.clock.advance(minutes=11)
    assert await crisis.remind_overdue(ctx) == 1
    assert await crisis.remind_overdue(ctx) == 0
    ctx.clock.advance(minutes=10)  # 21 min: past twice the 10 min due
    assert await crisis.remind_overdue(ctx) == 1
    notices = await rows(ctx, OutboxJob, OutboxJob.kind == "slack.crisis_notice")
    assert [(j.payload["step"], j.payload["level"]) for j in notices] == [(CONFIRM, "owner"), (CONFIRM, "lead")]
    async with ctx.db.uow() as uow:
        reminder = await crisis.reminder_view(uow, ctx, crisis_id, CONFIRM, "lead", ctx.clock())
    assert reminder.to_lead and [p.key for p in reminder.notify] == ["anna", "eva"]
    await done(ctx, CARLA, CONFIRM)
    async with ctx.db.uow() as uow:
        assert await crisis.reminder_view(uow, ctx, crisis_id, CONFIRM, "owner", ctx.clock()) is None


async def test_the_end_waits_for_required_steps_unless_the_lead_forces_it_with_a_reason(ctx):
    crisis_id = await start(ctx)
    with pytest.raises(NotAllowed, match="cannot end yet"):
        await crisis.end_crisis(c.EndCrisis(CARLA), ctx=ctx)
    with pytest.raises(DomainError, match="Give a reason"):
        await crisis.end_crisis(c.EndCrisis(ANNA), ctx=ctx)
    ctx.clock.advance(minutes=42)
    ended = await crisis.end_crisis(c.EndCrisis(EVA, "false alarm: a test page"), ctx=ctx)
    assert "ended early by Eva Hendriks: false alarm" in str(ended.message) and not ended.checklist.running
    [stored] = await rows(ctx, Crisis)
    assert "**forced**: false alarm: a test page" in stored.report and "after 42 min" in stored.report
    assert [a for _, a in await actions(ctx, crisis_id)] == ["crisis_started", "end_refused", "end_refused",
                                                             "crisis_forced_end"]
    [notice] = await rows(ctx, OutboxJob, OutboxJob.kind == "slack.crisis_notice")
    assert notice.payload == {"crisis_id": crisis_id, "kind": "report"}
    with pytest.raises(DomainError, match="ended"):
        await done(ctx, CARLA, CONFIRM, crisis_id=crisis_id)


async def test_the_report_is_a_timeline_against_due_times(ctx):
    crisis_id = await start(ctx, note="app down since 08:50")
    mention_id = await new_mention(ctx, reply_via="webhook")
    ctx.clock.advance(minutes=5)
    await done(ctx, CARLA, CONFIRM, note="confirmed | by IT")
    ctx.clock.advance(minutes=40)
    await done(ctx, BRAM, HOLDING)
    await crisis.skip_step(c.SkipStep(ANNA, LEGAL, "no legal angle, see [this](http://evil.example) *now*"),
                           ctx=ctx)
    await answering.submit_reply(c.SubmitReply(mention_id, CARLA, "We weten van de storing."), ctx=ctx)
    [draft] = await rows(ctx, Draft)
    await answering.approve(c.Approve(draft.id, EVA), ctx=ctx)
    await answering.record_delivery(draft.id, ctx=ctx, receipt=__import__("bot.replies.base", fromlist=["x"])
                                    .DeliveryReceipt(remote_id="r1", url=None))
    ctx.clock.advance(minutes=15)
    await done(ctx, CARLA, ALL_CLEAR)
    await crisis.end_crisis(c.EndCrisis(CARLA), ctx=ctx)
    report = (await crisis.report_crisis(c.ReportCrisis(ANNA, crisis_id=crisis_id), ctx=ctx)).markdown
    assert report.startswith(f"# Crisis report: Service outage (#{crisis_id})")
    assert "app down since 08:50" in report and "after 1 h" in report
    assert "**Time to holding statement:** 45 min (due 30 min)" in report
    assert "| Confirm the outage | webcare | 10 min | done | Carla Smit | +5 min | confirmed \\| by IT |" in report
    assert "| Approve the holding statement | corporate-communications | 30 min | done (late) | Bram Jansen |" in report
    # people's notes cannot turn into links or emphasis in the shared report
    assert ("- +45 min Anna de Vries: skipped — brief-legal: no legal angle, see \\[this\\](http://evil.example) "
            "\\*now\\*") in report
    assert f"| +0 min | #{mention_id} | X | @sannedv |" in report
    assert f"| +45 min | #{mention_id} | Carla Smit | Eva Hendriks | sent |" in report



async def test_a_chat_name_cannot_turn_into_a_link_or_emphasis_in_the_report(ctx):
    crisis_id = await start(ctx)
    stranger = Actor(PersonRef("slack:U999", "[Win a prize](http://evil.example) *now*"), frozenset())
    with pytest.raises(DomainError):
        await done(ctx, stranger, CONFIRM)  # refused, and the refusal is in the report under the name they chose
    report = (await crisis.report_crisis(c.ReportCrisis(ANNA, crisis_id=crisis_id), ctx=ctx)).markdown
    assert "[Win a prize](" not in report and "*now*" not in report
    assert "\\[Win a prize\\](http://evil.example) \\*now\\*: step refused" in report


async def test_a_dutch_teams_report_reads_dutch_and_still_escapes_peoples_text(ctx):
    dutch = dataclasses.replace(CONFIG, team=dataclasses.replace(CONFIG.team, lang="nl"))
    ctx = dataclasses.replace(ctx, config=dutch)
    crisis_id = await start(ctx, note="zie [hier](http://evil.example) *nu*")
    mention_id = await new_mention(ctx)
    ctx.clock.advance(minutes=5)
    await done(ctx, CARLA, CONFIRM, note="bevestigd | door IT\n# kop")
    ctx.clock.advance(minutes=70)
    await crisis.end_crisis(c.EndCrisis(EVA, "loos `alarm` _echt_"), ctx=ctx)
    report = (await crisis.report_crisis(c.ReportCrisis(ANNA, crisis_id=crisis_id), ctx=ctx)).markdown
    assert report.startswith(f"# Crisisverslag: Service outage (#{crisis_id})")
    assert "- **Playbook:** `outage` versie `" in report
    assert "- **Gestart:** 2026-11-20 09:00 UTC door Anna de Vries — zie \\[hier\\](http://evil.example) \\*nu\\*" \
        in report
    assert ("- **Afgelopen:** 2026-11-20 10:15 UTC door Eva Hendriks, na 1 u 15 min — **vroeg beëindigd**: "
            "loos \\`alarm\\` \\_echt\\_") in report
    assert "- **Tijd tot eerste verklaring:** niet gehaald — “Approve the holding statement” is niet klaar" in report
    assert "**gekoppelde vermeldingen:** 1; **verstuurde antwoorden:** 0" in report
    for heading in ("## Stappen", "## Overgeslagen en vroeg beëindigd", "## Weigeringen",
                    "## Gekoppelde vermeldingen in de tijd", "## Verstuurde antwoorden", "## Tijdlijn"):
        assert f"\n{heading}\n" in report
    assert "| Stap | Eigenaar | Termijn | Uitkomst | Door | Wanneer | Notitie |" in report
    assert ("| Confirm the outage | webcare | 10 min | klaar | Carla Smit | +5 min | bevestigd \\| door IT # kop |"
            in report)
    assert "| **niet gedaan** | — | — | — |" in report
    assert f"| +0 min | #{mention_id} | X | @sannedv |" in report
    assert "- +1 u 15 min Eva Hendriks: beëindigde de crisis vroeg — loos \\`alarm\\`" in report
    assert ": crisis gestart — outage@" in report and ": stap afgevinkt — confirm-the-outage: bevestigd" in report
    assert "[hier](" not in report and "*nu*" not in report and "\n# kop" not in report
    assert "Crisis report" not in report and "Steps" not in report and "Time to" not in report


async def test_erasing_an_author_also_takes_their_handle_out_of_stored_crisis_reports(ctx):
    crisis_id = await start(ctx)
    await new_mention(ctx)  # by @sannedv, linked by the playbook's trigger
    await crisis.report_crisis(c.ReportCrisis(ANNA, crisis_id=crisis_id), ctx=ctx)
    [before] = await rows(ctx, Crisis)
    assert "@sannedv" in before.report

    assert await privacy.erase_author("x", "sannedv", ctx=ctx, actor=privacy.operator("dpo")) == 1
    [after] = await rows(ctx, Crisis)
    assert "sannedv" not in after.report and "unknown author" in after.report

async def test_starting_and_ending_a_crisis_redraws_the_open_cards_so_they_offer_linking(ctx):
    mention_id = await new_mention(ctx, text="Iets heel anders")
    async with ctx.db.uow() as uow:
        [job] = [j for j in await uow.session.exec(select(OutboxJob)) if j.key == f"slack:card:{mention_id}"]
    crisis_id = await start(ctx)
    [after_start] = await rows(ctx, OutboxJob, OutboxJob.key == f"slack:card:{mention_id}")
    assert after_start.generation == job.generation + 1
    await crisis.end_crisis(c.EndCrisis(ANNA, "drill over", crisis_id=crisis_id), ctx=ctx)
    [after_end] = await rows(ctx, OutboxJob, OutboxJob.key == f"slack:card:{mention_id}")
    assert after_end.generation == job.generation + 2


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite runs one writer at a time
async def test_a_step_done_while_the_crisis_ends_is_in_its_report_or_not_recorded(ctx, database_url):
    crisis_id = await start(ctx)
    async with ctx.db.engine.begin() as conn:  # the step's insert takes half a second, as under load
        await conn.exec_driver_sql(
            "CREATE FUNCTION slow_step() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.5); RETURN NEW; END $$ "
            "LANGUAGE plpgsql")
        await conn.exec_driver_sql(
            "CREATE TRIGGER slow_step BEFORE INSERT ON crisis_step FOR EACH ROW EXECUTE FUNCTION slow_step()")
    step = asyncio.create_task(done(ctx, CARLA, CONFIRM, note="status page red"))
    await asyncio.sleep(0.1)
    await crisis.end_crisis(c.EndCrisis(EVA, "false alarm", crisis_id=crisis_id), ctx=ctx)
    outcome = (await asyncio.gather(step, return_exceptions=True))[0]
    [stored] = await rows(ctx, Crisis)
    recorded = await rows(ctx, CrisisStep)
    if isinstance(outcome, Exception):
        assert "has ended" in str(outcome) and recorded == []
    else:
        assert [s.step_id for s in recorded] == [CONFIRM]
        assert "status page red" in stored.report  # the end waited for the step, so its report shows it
