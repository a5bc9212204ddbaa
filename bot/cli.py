"""The `webcare` command line: serve, db upgrade, ingest FILE, playbooks check, crisis report, manifests."""

from __future__ import annotations

import asyncio
import gc
import getpass
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
from pydantic import ValidationError

from bot.config import Config, ConfigError, load_config
from bot.settings import Settings

logger = logging.getLogger(__name__)


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise click.ClickException(f"invalid environment: {problems}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="webcare-bot", prog_name="webcare")
def main() -> None:
    """Webcare triage bot: social mentions as claimable cards in Slack and Microsoft Teams."""


@main.command()
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def serve(log_level: str) -> None:
    """Run the HTTP server on $HOST:$PORT (SQLite databases are migrated first)."""
    import uvloop
    from aiohttp import web

    from bot.app import create_app
    from bot.logs import configure
    from bot.storage.database import async_url
    from bot.storage.migrate import upgrade

    settings = _settings()
    configure(log_level.upper(), settings.secret_values(), fmt=settings.log_format)
    try:
        config = load_config(settings.resolved_config_path)
        _refuse_invalid_playbooks(settings, config)
        if async_url(settings.database_url).get_backend_name() == "sqlite":
            upgrade(settings.database_url)
        app = create_app(settings, config=config)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    logger.info("webcare: serving on http://%s:%d (database %s)", settings.host, settings.port,
                async_url(settings.database_url).render_as_string(hide_password=True))
    # What start-up made (modules, classes, the app) lives as long as the process: a full collection that
    # walked it all stalled the loop for ~90 ms every few thousand mentions; frozen, it is never walked.
    gc.collect()
    gc.freeze()
    web.run_app(app, host=settings.host, port=settings.port, access_log=None, print=None,
                loop=uvloop.new_event_loop())


def _refuse_invalid_playbooks(settings: Settings, config: Config) -> None:
    """Stop `serve` when the playbooks directory holds a playbook or saved reply with problems."""
    from bot.core.crisis.playbooks import load_playbooks
    from bot.core.replies import load_saved_replies, replies_dir

    directory = settings.playbooks_dir
    if not directory.is_dir():
        return
    _, problems = load_playbooks(directory, config if settings.resolved_config_path is not None else None)
    problems += load_saved_replies(replies_dir(directory))[1]
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:5])
        more = f"\n  … and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise click.ClickException(f"invalid playbooks in {directory} (see `webcare playbooks check`):\n{shown}{more}")


@main.group()
def playbooks() -> None:
    """Crisis playbook commands."""


@playbooks.command("check")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
def playbooks_check(directory: Path | None) -> None:
    """Validate every playbook and saved reply (its `replies/`) in DIRECTORY (default $WEBCARE_PLAYBOOKS_DIR).

    Prints `file:line: problem`; exit status 1 on any problem.
    """
    from bot.core.catalogue import DEFAULT_LANG, words
    from bot.core.crisis.playbooks import load_playbooks, playbook_files, preview_checklist
    from bot.core.replies import load_saved_replies, replies_dir, reply_files
    from bot.teams.checklist import steps_on_card

    settings = _settings()
    directory = directory if directory is not None else settings.playbooks_dir
    if not directory.is_dir():
        raise click.ClickException(f"{directory}: not a directory of playbooks")
    config_path = settings.resolved_config_path
    config = None
    if config_path is None:
        click.echo("no webcare.toml (set WEBCARE_CONFIG): owner and lead roles are not checked", err=True)
    else:
        try:
            config = load_config(config_path)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    valid, problems = load_playbooks(directory, config)
    for problem in problems:
        click.echo(str(problem))
    warnings = 0
    for playbook in valid:  # a warning, not a problem: the crisis runs, its Teams card shows a part at a time
        shown = steps_on_card(preview_checklist(playbook, config), config.team.words if config else words(DEFAULT_LANG))
        if shown < len(playbook.steps):
            warnings += 1
            click.echo(f"{playbook.path}:{playbook.steps[shown].line}: warning: {len(playbook.steps)} steps are more "
                       f"than one Teams message holds: its checklist card shows {shown} at a time, and "
                       f"`crisis status` lists them all")
    count = len(playbook_files(directory))
    click.echo(f"{count} playbook{'s' * (count != 1)}, {len(problems)} problem{'s' * (len(problems) != 1)}"
               + (f", {warnings} warning{'s' * (warnings != 1)}" if warnings else ""), err=True)
    reply_problems = load_saved_replies(replies_dir(directory))[1]
    for problem in reply_problems:
        click.echo(str(problem))
    if replies := len(reply_files(replies_dir(directory))):
        click.echo(f"{replies} saved repl{'ies' if replies != 1 else 'y'}, {len(reply_problems)} "
                   f"problem{'s' * (len(reply_problems) != 1)}", err=True)
    if problems or reply_problems:
        sys.exit(1)


@main.group()
def crisis() -> None:
    """Crisis commands that need no chat (the rest is typed in Slack or Teams)."""


async def _crisis_report(settings: Settings, crisis_id: int) -> str:
    from bot.storage.database import Database
    from handlers.context import Context
    from handlers.crisis import stored_report

    db = Database(settings.database_url)
    try:
        return await stored_report(Context(db=db, config=load_config(settings.resolved_config_path)), crisis_id)
    finally:
        await db.dispose()


@crisis.command("report")
@click.argument("crisis_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the markdown to FILE (e.g. next to the playbooks, for the post-mortem) instead of stdout.")
def crisis_report(crisis_id: int, out: Path | None) -> None:
    """Print the markdown timeline of crisis CRISIS_ID (the number the chat shows, e.g. #3)."""
    from bot.core.mentions import DomainError

    settings = _settings()
    try:
        report = asyncio.run(_crisis_report(settings, crisis_id))
    except (ConfigError, DomainError) as exc:
        raise click.ClickException(getattr(exc, "user_message", str(exc))) from None
    if out is None:
        click.echo(report, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out}", err=True)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION on WEBCARE_DATABASE_URL."""
    from bot.storage.migrate import DatabaseUnavailable, upgrade

    try:
        upgrade(_settings().database_url, revision)
    except (DatabaseUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("database is up to date")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of WEBCARE_DATABASE_URL and the newest one this version ships."""
    from bot.storage.migrate import DatabaseUnavailable, current_revision, head_revision

    head = head_revision()
    try:
        current = asyncio.run(current_revision(_settings().database_url))
    except (DatabaseUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    state = "up to date" if current == head else "behind: run `webcare db upgrade`"
    click.echo(f"current: {current or '(empty database)'}  head: {head}  ({state})")


@main.command()
@click.option("--timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="Seconds each check may take.")
def doctor(timeout: float) -> None:
    """Check the database, Slack, Teams, webcare.toml and the playbooks; exit 1 if any check fails."""
    from bot.chat.checks import Status
    from bot.doctor import run_checks

    checks = asyncio.run(run_checks(_settings(), timeout=timeout))
    for check in checks:
        click.echo(check.line())
    failed = sum(check.status is Status.FAIL for check in checks)
    warned = sum(check.status is Status.WARN for check in checks)
    summary = f"{failed} of {len(checks)} checks failed" if failed else f"no check of {len(checks)} failed"
    click.echo(f"{summary}, {warned} warnings" if warned else summary, err=True)
    if failed:
        sys.exit(1)


@main.group()
def privacy() -> None:
    """Privacy (AVG/GDPR) commands; [retention] in webcare.toml expires data by itself while `serve` runs."""


async def _erase(settings: Settings, config: Config, network: str, handle: str, operator: str) -> int:
    from bot.outbox.fanout import Fanout
    from bot.storage.database import Database
    from handlers.context import Context
    from handlers.privacy import erase_author
    from handlers.privacy import operator as as_actor

    db = Database(settings.database_url)
    try:
        ctx = Context(db=db, config=config, fanout=Fanout(chat_platforms(settings)))
        return await erase_author(network, handle, ctx=ctx, actor=as_actor(operator))
    finally:
        await db.dispose()


@privacy.command("erase")
@click.option("--network", required=True, help="The network the person posted on, e.g. x or mastodon.")
@click.option("--handle", required=True, help="Their handle there (with or without @; case does not matter).")
@click.option("--operator", default=lambda: getpass.getuser(), show_default="your user name",
              help="Who asked for the erasure, for the audit trail.")
def privacy_erase(network: str, handle: str, operator: str) -> None:
    """Remove a person's texts and profile data from every mention they wrote; anonymous counts stay.

    Mention texts, author fields, raw payloads and the reply drafts to them are erased, each mention is audited,
    and the cards already in Slack or Teams are redrawn without the text (by the running server).
    """
    from bot.storage.migrate import DatabaseUnavailable, current_revision

    settings = _settings()
    try:
        config = load_config(settings.resolved_config_path)
        asyncio.run(current_revision(settings.database_url))  # one clear line if the database is not there
    except (ConfigError, DatabaseUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    erased = asyncio.run(_erase(settings, config, network, handle, operator))
    click.echo(f"erased {erased} mention{'s' * (erased != 1)} by {handle} on {network}")


@dataclass
class _Summary:
    accepted: int = 0
    duplicate: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)


def chat_platforms(settings: Settings) -> tuple[str, ...]:
    """The platforms that get cards, decided as `create_app` decides them."""
    slack = ("slack",) if settings.slack_enabled and settings.slack_triage_channel is not None else ()
    return slack + (("teams",) if settings.teams_enabled else ())


async def _import(path: Path, settings: Settings, config: Config, *, closed: bool) -> _Summary:
    from tqdm import tqdm

    from bot.core.incoming import SchemaError, parse_event
    from bot.outbox.fanout import Fanout
    from bot.storage.database import Database
    from handlers.context import Context
    from handlers.history import import_closed
    from handlers.ingest import ingest

    db = Database(settings.database_url)
    ctx = Context(db=db, config=config, fanout=Fanout(chat_platforms(settings)))
    summary = _Summary()
    lines = path.read_bytes().splitlines()  # only \n and \r end a line; bytes that are not UTF-8 make it invalid
    try:
        for number, line in enumerate(tqdm(lines, unit="line", desc=path.name, file=sys.stderr), start=1):
            if not line.strip():
                continue
            try:
                items = parse_event(line)
            except SchemaError as exc:
                summary.invalid.append((number, str(exc)))
                continue
            stored = await import_closed(items, ctx=ctx, origin=path.name) if closed else await ingest(items, ctx=ctx)
            for result in stored:
                if result.duplicate:
                    summary.duplicate += 1
                else:
                    summary.accepted += 1
    finally:
        await db.dispose()
    return summary


@main.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--closed", is_flag=True,
              help="Import history: store the mentions closed (audited as imported), for stats and de-duplication, "
                   "without posting a card for each.")
def ingest_file(file: Path, closed: bool) -> None:
    """Import a JSONL file of mention events (one mention.created or mention.batch per line).

    New mentions get a card on every configured chat platform (posted by the running server), unless --closed.
    """
    from bot.storage.migrate import DatabaseUnavailable, upgrade

    settings = _settings()
    try:
        config = load_config(settings.resolved_config_path)
        upgrade(settings.database_url)
    except (ConfigError, DatabaseUnavailable, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    summary = asyncio.run(_import(file, settings, config, closed=closed))
    click.echo(f"accepted: {summary.accepted}  duplicate: {summary.duplicate}  invalid: {len(summary.invalid)}")
    for number, problem in summary.invalid:
        click.echo(f"  {file}:{number}: {problem[:300]}")
    if summary.invalid:
        sys.exit(1)


@main.command("slack-manifest")
@click.option("--url", help="Public https base URL of this server (events and interactivity go to URL/slack/events).")
@click.option("--socket-mode", is_flag=True, help="Use Socket Mode instead of a public URL.")
@click.option("--name", default="Webcare", show_default=True)
def slack_manifest(url: str | None, socket_mode: bool, name: str) -> None:
    """Print the Slack app manifest to paste into api.slack.com/apps → Create New App."""
    from bot.slack.manifest import build_manifest

    try:
        manifest = build_manifest(url=url, socket_mode=socket_mode, name=name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(json.dumps(manifest, indent=2))


@main.command("teams-manifest")
@click.option("--app-id", required=True, help="The Microsoft App ID of your Azure Bot (a GUID).")
@click.option("--host", required=True, help="Public host name of this server, e.g. webcare.example.com.")
@click.option("--name", default="Webcare", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("webcare-teams.zip"),
              show_default=True, help="Where to write the app package.")
@click.option("--version", "app_version", default=None, metavar="X.Y.Z",
              help="The package's version; Teams takes an update only with a higher one.  [default: webcare's]")
def teams_manifest(app_id: str, host: str, name: str, out: Path, app_version: str | None) -> None:
    """Write the Teams app package (manifest.json and icons) to upload in Teams → Apps → Manage your apps."""
    from importlib.metadata import version

    from bot.teams.manifest import build_app_package

    try:
        package = build_app_package(app_id=app_id, host=host, name=name,
                                    version=app_version or version("webcare-bot"))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(package)
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror or exc}") from None
    click.echo(f"wrote {out} ({len(package)} bytes): upload it in Teams → Apps → Manage your apps → Upload an app")
