"""Core and app: playbook files (docs/contract.md §7) parse into steps; each problem is named `file:line: message`."""

import hashlib
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import load_config
from bot.core.crisis.playbooks import Problem, load_playbooks, parse_playbook, playbook_version, slugify
from tests.processes import free_port

FIXTURES = Path(__file__).parents[1] / "fixtures"
PLAYBOOKS = FIXTURES / "playbooks"
TEAM = FIXTURES / "webcare.toml"
TEAM_ROLES = {"webcare", "webcare-lead", "crisis-lead", "corporate-communications", "legal"}


def parse(path: Path, *, roles=TEAM_ROLES):
    return parse_playbook(path, path.read_text(encoding="utf-8"), roles=roles)


def test_design_example_parses_into_its_steps():
    playbook, problems = parse(PLAYBOOKS / "design" / "service-outage.md", roles=None)

    assert problems == []
    assert (playbook.key, playbook.title, playbook.severity, playbook.reply_policy, playbook.lead_role) == (
        "service-outage", "Service outage", "high", "approval", "crisis-lead")
    assert playbook.triggers == ("storing", "outage", "werkt niet", "down")
    assert [(s.id, s.line, s.owner, s.due, s.unlocks, s.optional) for s in playbook.steps] == [
        ("confirm-the-outage-with-it", 12, "it-operations", timedelta(minutes=10), frozenset(), False),
        ("approve-the-holding-statement", 18, "corporate-communications", timedelta(minutes=30),
         frozenset({"replies"}), False),
        ("brief-the-department-heads", 25, "webcare-lead", None, frozenset(), True),
    ]
    confirm, approve, brief = playbook.steps
    assert confirm.guidance == "Check the status page and call the on-call engineer." and confirm.templates == ()
    assert approve.templates == ("We weten van de storing en werken aan een oplossing. Om {time} volgt een update.",)
    assert brief.title == "Brief the department heads"
    assert playbook.text.startswith("---\ntitle: Service outage")


def test_design_example_owner_must_be_a_role_of_the_team():
    _, problems = parse(PLAYBOOKS / "design" / "service-outage.md")
    assert [(p.line, p.message) for p in problems] == [
        (13, "owner 'it-operations' is a role nobody holds in webcare.toml")]


def test_templates_keep_their_lines_and_guidance_keeps_subheadings():
    playbook, problems = parse(PLAYBOOKS / "good" / "data-leak.md")
    assert problems == []
    inform, approve, post_mortem = playbook.steps
    assert inform.templates == (
        "We onderzoeken een mogelijk datalek en melden het bij de Autoriteit Persoonsgegevens.",)
    assert approve.templates == ("Wij hebben een datalek ontdekt.\nMeer informatie volgt om {time}.",)
    assert post_mortem.due == timedelta(days=1) and post_mortem.optional is False
    assert "### Notes" in post_mortem.guidance and "Write it down." in post_mortem.guidance


@pytest.mark.parametrize(("name", "line", "message"), [
    ("unknown-front-matter-key", 7, "unknown front matter key 'owner'"),
    ("empty-title", 2, "title must be a non-empty text"),
    ("unknown-severity", 3, "unknown severity 'urgent'"),
    ("unknown-reply-policy", 5, "unknown reply_policy 'maybe'"),
    ("bad-triggers", 4, "triggers must be a list of non-empty texts"),
    ("unknown-lead-role", 6, "lead_role 'boss' is a role nobody holds"),
    ("invalid-yaml", 5, "front matter is not valid YAML"),
    ("no-front-matter", 1, "missing front matter"),
    ("unknown-owner-role", 11, "owner 'it-operations' is a role nobody holds"),
    ("bad-due", 12, "due '1 hour' is not a duration like 10m, 2h or 1d"),
    ("zero-due", 12, "due '0m' is not a duration"),
    ("unknown-unlocks", 13, "unknown unlocks target 'mentions'"),
    ("duplicate-step-id", 16, "duplicate step id 'inform-legal' (the heading on line 10 has it too)"),
    ("no-steps", 1, "the playbook has no steps"),
    ("empty-template", 16, "empty reply template"),
    ("unknown-step-key", 12, "unknown step key 'deadline'"),
    ("missing-owner", 10, "step 'Inform legal' has no `- owner: <role>` line"),
    ("non-boolean-optional", 13, "optional must be true or false, not 'yes'"),
    ("two-steps-unlock-replies", 17, "only one step may unlock replies; step 'inform-legal' on line 10"),
])
def test_each_problem_is_named_with_its_line(name, line, message):
    path = PLAYBOOKS / "broken" / f"{name}.md"
    playbook, problems = parse(path)
    assert playbook is None
    assert len(problems) == 1, problems
    assert (problems[0].path, problems[0].line) == (str(path), line)
    assert message in problems[0].message
    assert str(problems[0]).startswith(f"{path}:{line}: ")


def test_default_lead_role_must_be_held_too():
    text = "---\ntitle: T\nseverity: low\nreply_policy: open\n---\n## Watch\n- owner: webcare\n"
    assert parse_playbook("t.md", text, roles={"webcare", "crisis-lead"})[1] == []
    _, problems = parse_playbook("t.md", text, roles={"webcare"})
    assert problems == [
        Problem("t.md", 1, "lead_role 'crisis-lead' (the default) is a role nobody holds in webcare.toml")]


def test_several_problems_in_one_file_are_all_reported():
    text = ("---\ntitle: T\nseverity: urgent\nreply_policy: open\ncolour: red\n---\n"
            "## Watch\n- owner: nobody\n- due: soon\n\n## Watch\n- owner: webcare\n")
    _, problems = parse_playbook("t.md", text, roles=TEAM_ROLES)
    assert sorted((p.line, p.message.split(" ")[0]) for p in problems) == [
        (3, "unknown"), (5, "unknown"), (8, "owner"), (9, "due"), (11, "duplicate")]


def test_slug_is_lowercase_ascii_with_dashes():
    assert slugify("Café: bel de **CEO** — nú!") == "cafe-bel-de-ceo-nu"


def test_load_skips_readme_and_checks_roles_against_the_team():
    playbooks, problems = load_playbooks(PLAYBOOKS / "good", load_config(TEAM))
    assert problems == []
    assert [p.key for p in playbooks] == ["data-leak", "minimal"]
    _, problems = load_playbooks(PLAYBOOKS / "design", load_config(TEAM))
    assert [str(p) for p in problems] == [
        f"{PLAYBOOKS / 'design' / 'service-outage.md'}:13: "
        "owner 'it-operations' is a role nobody holds in webcare.toml"]
    assert load_playbooks(PLAYBOOKS / "design", None)[1] == []


def test_version_is_the_sha256_outside_git(tmp_path):
    path = tmp_path / "minimal.md"
    shutil.copy(PLAYBOOKS / "good" / "minimal.md", path)
    assert playbook_version(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    [playbook], _ = load_playbooks(tmp_path, load_config(TEAM))
    assert playbook.version == hashlib.sha256(path.read_bytes()).hexdigest()


def test_version_is_the_last_commit_of_the_file_inside_git(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    path = tmp_path / "playbooks" / "minimal.md"
    path.parent.mkdir()
    shutil.copy(PLAYBOOKS / "good" / "minimal.md", path)
    assert playbook_version(path) == hashlib.sha256(path.read_bytes()).hexdigest()  # untracked
    git("add", ".")
    git("commit", "-q", "-m", "add playbook")
    commit = git("rev-parse", "HEAD")
    (tmp_path / "other.txt").write_text("later change elsewhere\n")
    git("add", ".")
    git("commit", "-q", "-m", "unrelated")

    version = playbook_version(path)
    assert version == commit and len(version) == 40 and int(version, 16) >= 0
    path.write_text(path.read_text() + "\nEdited, not committed.\n")
    assert playbook_version(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def copy_playbooks(target: Path, *names: str) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(PLAYBOOKS / name, target / Path(name).name)
    return target


def test_check_passes_good_playbooks_silently(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCARE_CONFIG", str(TEAM))
    directory = copy_playbooks(tmp_path / "pb", "good/data-leak.md", "good/minimal.md", "good/README.md")
    result = CliRunner().invoke(main, ["playbooks", "check", str(directory)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "2 playbooks, 0 problems" in result.stderr


def test_check_prints_each_problem_and_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("WEBCARE_CONFIG", str(TEAM))
    directory = copy_playbooks(tmp_path / "pb", "good/minimal.md", "broken/bad-due.md", "broken/unknown-owner-role.md")
    result = CliRunner().invoke(main, ["playbooks", "check", str(directory)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{directory / 'bad-due.md'}:12: due '1 hour' is not a duration like 10m, 2h or 1d",
        f"{directory / 'unknown-owner-role.md'}:11: owner 'it-operations' is a role nobody holds in webcare.toml",
    ]
    assert "3 playbooks, 2 problems" in result.stderr


def test_check_defaults_to_the_playbooks_dir_and_says_when_roles_cannot_be_checked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WEBCARE_CONFIG", raising=False)
    monkeypatch.setenv("WEBCARE_PLAYBOOKS_DIR", str(copy_playbooks(tmp_path / "pb", "broken/unknown-owner-role.md")))
    result = CliRunner().invoke(main, ["playbooks", "check"])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("roles are not checked") == 1

    copy_playbooks(tmp_path / "pb", "broken/bad-due.md")
    result = CliRunner().invoke(main, ["playbooks", "check"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{tmp_path / 'pb' / 'bad-due.md'}:12: due '1 hour' is not a duration "
                                          "like 10m, 2h or 1d"]


def test_check_of_a_missing_directory_fails(tmp_path):
    result = CliRunner().invoke(main, ["playbooks", "check", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "not a directory" in result.output


def run_webcare(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    prefixes = ("WEBCARE_", "SLACK_", "MICROSOFT_", "TEAMS_", "MASTODON_", "HOST", "PORT")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, env={**clean, **env}, text=True,
                          capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def test_serve_refuses_to_start_on_an_invalid_playbook(tmp_path):
    shutil.copy(TEAM, tmp_path / "webcare.toml")
    copy_playbooks(tmp_path / "crisis", "good/minimal.md", "broken/unknown-unlocks.md")
    result = run_webcare("serve", cwd=tmp_path, PORT=str(free_port()), WEBCARE_PLAYBOOKS_DIR="crisis")
    assert result.returncode != 0
    assert "invalid playbooks in crisis" in result.stderr
    assert "crisis/unknown-unlocks.md:13: unknown unlocks target 'mentions'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "webcare.db").exists()
