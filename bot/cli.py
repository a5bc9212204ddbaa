"""The `webcare` command line: serve, db upgrade, ingest FILE, playbooks check, crisis report, manifests."""

from __future__ import annotations

import asyncio
import gc
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
    from bot.migrate import upgrade
    from bot.storage import async_url

    settings = _settings()
    configure(log_level.upper(), settings.secret_values())
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
    """Stop `serve` when the playbooks directory holds a playbook with problems."""
    from bot.playbooks import load_playbooks

    directory = settings.playbooks_dir
    if not directory.is_dir():
        return
    _, problems = load_playbooks(directory, config if settings.resolved_config_path is not None else None)
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
    """Validate every playbook in DIRECTORY (default $WEBCARE_PLAYBOOKS_DIR); print `file:line: problem`."""
    from bot.playbooks import load_playbooks, playbook_files

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
    _, problems = load_playbooks(directory, config)
    for problem in problems:
        click.echo(str(problem))
    count = len(playbook_files(directory))
    click.echo(f"{count} playbook{'s' * (count != 1)}, {len(problems)} problem{'s' * (len(problems) != 1)}",
               err=True)
    if problems:
        sys.exit(1)


@main.group()
def crisis() -> None:
    """Crisis commands that need no chat (the rest is typed in Slack or Teams)."""


async def _crisis_report(settings: Settings, crisis_id: int) -> str:
    from bot.storage import Database
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
    from bot.domain import DomainError

    settings = _settings()
    try:
        report = asyncio.run(_crisis_report(settings, crisis_id))
    except (ConfigError, DomainError) as exc:
        raise click.ClickException(getattr(exc, "user_message", str(exc))) from None
    if out is None:
        click.echo(report, nl=False)
        return
    out.write_text(report, encoding="utf-8")
    click.echo(f"wrote {out}", err=True)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION on WEBCARE_DATABASE_URL."""
    from bot.migrate import upgrade

    upgrade(_settings().database_url, revision)
    click.echo("database is up to date")


@dataclass
class _Summary:
    accepted: int = 0
    duplicate: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)


async def _import(path: Path, settings: Settings) -> _Summary:
    from tqdm import tqdm

    from bot.fanout import Fanout
    from bot.ingest.schema import SchemaError, parse_event
    from bot.storage import Database
    from handlers.context import Context
    from handlers.ingest import ingest

    platforms = ("slack",) if settings.slack_enabled and settings.slack_triage_channel else ()
    db = Database(settings.database_url)
    ctx = Context(db=db, config=load_config(settings.resolved_config_path), fanout=Fanout(platforms))
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
            for result in await ingest(items, ctx=ctx):
                if result.duplicate:
                    summary.duplicate += 1
                else:
                    summary.accepted += 1
    finally:
        await db.dispose()
    return summary


@main.command("ingest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def ingest_file(file: Path) -> None:
    """Import a JSONL file of mention events (one mention.created or mention.batch per line)."""
    from bot.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    summary = asyncio.run(_import(file, settings))
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
def teams_manifest(app_id: str, host: str, name: str, out: Path) -> None:
    """Write the Teams app package (manifest.json and icons) to upload in Teams → Apps → Manage your apps."""
    from bot.teams.manifest import build_app_package

    try:
        package = build_app_package(app_id=app_id, host=host, name=name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    out.write_bytes(package)
    click.echo(f"wrote {out} ({len(package)} bytes): upload it in Teams → Apps → Manage your apps → Upload an app")
