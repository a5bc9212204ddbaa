"""Crisis playbooks (docs/contract.md §7): markdown files parsed into steps, validated with `file:line` problems."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.front_matter import front_matter_plugin

from bot.core.crisis.views import ChecklistView, ReplyGate, StepStatus, StepView
from bot.core.views import PersonRef

logger = logging.getLogger(__name__)

SEVERITIES = ("low", "medium", "high", "critical")
REPLY_POLICIES = ("open", "hold", "approval")
UNLOCK_TARGETS = ("replies",)
CHANNEL_KINDS = ("private", "public")  # who may find the crisis' own channel: its members, or the whole workspace
DEFAULT_LEAD_ROLE = "crisis-lead"
DEFAULT_CHANNEL = "private"  # a breach or market-sensitive news must not leak through a public channel
FRONT_MATTER_KEYS = ("title", "severity", "triggers", "reply_policy", "lead_role", "channel")
STEP_KEYS = ("owner", "due", "unlocks", "optional")

_DUE = re.compile(r"([1-9][0-9]*)([mhd])")
_DUE_UNITS = {"m": "minutes", "h": "hours", "d": "days"}
_GIT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in a playbook file, printed as `file:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Step:
    """One `##` section of a playbook."""

    id: str
    title: str
    line: int
    owner: str
    due: timedelta | None = None
    unlocks: frozenset[str] = frozenset()
    optional: bool = False
    guidance: str = ""
    templates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Playbook:
    """A validated playbook: front matter, steps in order, and the text and version it was read from."""

    key: str
    path: str
    title: str
    severity: str
    triggers: tuple[str, ...]
    reply_policy: str
    lead_role: str
    steps: tuple[Step, ...]
    text: str
    version: str
    channel: str = DEFAULT_CHANNEL

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if any."""
        return next((s for s in self.steps if s.id == step_id), None)


def slugify(text: str) -> str:
    """Lowercase, ascii-folded, every run of non-alphanumerics turned into one `-`."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def parse_due(value: str) -> timedelta | None:
    """`10m`, `2h`, `1d` as a timedelta; None when the value is not a positive whole number plus unit."""
    match = _DUE.fullmatch(value.strip())
    if match is None:
        return None
    return timedelta(**{_DUE_UNITS[match.group(2)]: int(match.group(1))})


def parse_playbook(path: Path | str, text: str, *, roles: Collection[str] | None = None,
                   version: str = "") -> tuple[Playbook | None, list[Problem]]:
    """Parse and validate one playbook; `roles` are the roles people hold (None skips the role checks).

    The playbook is None whenever there is any problem.
    """
    parser = _Parser(str(path), text, roles)
    playbook = parser.parse(key=Path(path).stem, version=version)
    return (None if parser.problems else playbook), parser.problems


class Member(Protocol):
    """A person as the playbooks see them: their roles and how they are named."""

    @property
    def roles(self) -> frozenset[str]: ...

    @property
    def ref(self) -> PersonRef: ...


class Team(Protocol):
    """What the playbooks need of webcare.toml (`bot.config.Config` is one): its people and each role's members."""

    @property
    def people(self) -> Mapping[str, Member]: ...

    def members(self, role: str) -> Sequence[Member]: ...


def load_playbooks(directory: Path | str, config: Team | None) -> tuple[list[Playbook], list[Problem]]:
    """Parse every `*.md` in `directory` except README.md; no config skips the owner-role checks."""
    roles = None if config is None else {role for person in config.people.values() for role in person.roles}
    playbooks: list[Playbook] = []
    problems: list[Problem] = []
    for path in playbook_files(directory):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(str(path), 1, f"cannot read the file: {exc}"))
            continue
        playbook, found = parse_playbook(path, text, roles=roles)
        problems.extend(found)
        if playbook is not None:
            playbooks.append(replace(playbook, version=playbook_version(path)))
    return playbooks, problems


def playbook_files(directory: Path | str) -> list[Path]:
    """The playbook files in `directory`, sorted: every `*.md` but README.md."""
    return sorted(p for p in Path(directory).glob("*.md") if p.is_file() and p.name.lower() != "readme.md")


def playbook_version(path: Path | str) -> str:
    """The commit of the file's last change when it is tracked and unchanged in a git work tree, else its sha256."""
    path = Path(path).resolve()
    commit = _git(path, "log", "-n1", "--format=%H", "--", path.name)
    if commit and _git(path, "status", "--porcelain", "--", path.name) == "":
        return commit
    return hashlib.sha256(path.read_bytes()).hexdigest()


def preview_checklist(playbook: Playbook, config: Team | None) -> ChecklistView:
    """The checklist a crisis on this playbook starts with, its owners and leads taken from `config`."""
    started = datetime(2000, 1, 1, tzinfo=UTC)

    def members(role: str) -> tuple[PersonRef, ...]:
        return () if config is None else tuple(p.ref for p in config.members(role))

    steps, blocked = [], False
    for step in playbook.steps:
        status = StepStatus.WAITING if blocked else StepStatus.NEXT
        steps.append(StepView(step.id, step.title, step.owner, members(step.owner), status, step.optional,
                              "replies" in step.unlocks, started + step.due if step.due else None))
        blocked = blocked or not step.optional
    gate_step = next((s for s in steps if s.unlocks_replies), None)
    return ChecklistView(
        id=1, playbook=playbook.key, title=playbook.title, severity=playbook.severity, version=playbook.version,
        drill=False, started_at=started, started_by=PersonRef("preview", "Someone"), lead_role=playbook.lead_role,
        leads=members(playbook.lead_role), steps=tuple(steps), gate_step=gate_step, linked=0, now=started,
        gate=ReplyGate.LOCKED if gate_step else ReplyGate(playbook.reply_policy),
        private_channel=playbook.channel == "private")


def _git(path: Path, *args: str) -> str | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        result = subprocess.run(["git", "-C", str(path.parent), *args], capture_output=True, text=True,
                                timeout=_GIT_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark").use(front_matter_plugin)


class _Parser:
    """Walks the markdown-it syntax tree of one file, collecting problems as it goes."""

    def __init__(self, path: str, text: str, roles: Collection[str] | None) -> None:
        self.path, self.text, self.roles = path, text, roles
        self.lines = text.splitlines()
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def parse(self, *, key: str, version: str) -> Playbook | None:
        root = SyntaxTreeNode(_markdown().parse(self.text))
        nodes = list(root.children)
        if not nodes or nodes[0].type != "front_matter":
            self.problem(1, "missing front matter: the file must start with a `---` block holding at least `title`")
            meta: dict[str, Any] = {}
        else:
            meta = self.front_matter(nodes.pop(0))
        steps = self.steps(nodes)
        if not meta:
            return None
        return Playbook(key=key, path=self.path, title=meta["title"], severity=meta["severity"],
                        triggers=meta["triggers"], reply_policy=meta["reply_policy"], lead_role=meta["lead_role"],
                        steps=tuple(steps), text=self.text, version=version, channel=meta["channel"])

    # -- front matter ---------------------------------------------------------------------------

    def front_matter(self, node: SyntaxTreeNode) -> dict[str, Any]:
        start = _line(node)
        first_content_line = start + 1
        try:
            tree = yaml.compose(node.content, Loader=yaml.SafeLoader)
            data = yaml.safe_load(node.content)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = first_content_line + mark.line if mark is not None else start
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.problem(line, f"front matter is not valid YAML: {problem}")
            return {}
        if not isinstance(data, dict) or not isinstance(tree, yaml.MappingNode):
            self.problem(start, "front matter must be a mapping of `key: value` lines")
            return {}
        key_lines: dict[Any, int] = {}
        for key_node, _ in tree.value:
            line = first_content_line + key_node.start_mark.line
            if key_node.value in key_lines:
                self.problem(line, f"front matter key {key_node.value!r} is given twice")
            key_lines[key_node.value] = line
        line_of = {k: key_lines.get(str(k), start) for k in data}

        for unknown in [k for k in data if k not in FRONT_MATTER_KEYS]:
            self.problem(line_of[unknown], f"unknown front matter key {unknown!r} "
                                           f"(expected {', '.join(FRONT_MATTER_KEYS)})")
        count = len(self.problems)
        title = self.text_value(data, "title", line_of, start, required=True)
        severity = self.choice(data, "severity", SEVERITIES, line_of, start)
        reply_policy = self.choice(data, "reply_policy", REPLY_POLICIES, line_of, start)
        triggers = self.triggers(data, line_of)
        channel = self.choice(data, "channel", CHANNEL_KINDS, line_of, start, default=DEFAULT_CHANNEL)
        before_lead = len(self.problems)
        lead_role = self.text_value(data, "lead_role", line_of, start) or DEFAULT_LEAD_ROLE
        if len(self.problems) == before_lead:
            self.check_role(line_of.get("lead_role", start), "lead_role", lead_role, default="lead_role" not in data)
        if len(self.problems) > count:
            return {}
        return {"title": title, "severity": severity, "reply_policy": reply_policy, "triggers": triggers,
                "lead_role": lead_role, "channel": channel}

    def text_value(self, data: dict[str, Any], key: str, line_of: dict[Any, int], start: int, *,
                   required: bool = False) -> str | None:
        if key not in data:
            if required:
                self.problem(start, f"front matter is missing {key!r}")
            return None
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            self.problem(line_of[key], f"{key} must be a non-empty text, not {_show(value)}")
            return None
        return value.strip()

    def choice(self, data: dict[str, Any], key: str, allowed: tuple[str, ...], line_of: dict[Any, int],
               start: int, *, default: str | None = None) -> str | None:
        if key not in data:
            if default is not None:
                return default
            self.problem(start, f"front matter is missing {key!r} (one of {' | '.join(allowed)})")
            return None
        value = data[key]
        if value not in allowed:
            self.problem(line_of[key], f"unknown {key} {_show(value)} (expected one of {' | '.join(allowed)})")
            return None
        return value

    def triggers(self, data: dict[str, Any], line_of: dict[Any, int]) -> tuple[str, ...]:
        value = data.get("triggers", [])
        if not isinstance(value, list) or not all(isinstance(t, str) and t.strip() for t in value):
            self.problem(line_of["triggers"], f"triggers must be a list of non-empty texts, not {_show(value)}")
            return ()
        return tuple(t.strip() for t in value)

    def check_role(self, line: int, what: str, role: str, *, default: bool = False) -> None:
        if self.roles is not None and role not in self.roles:
            suffix = " (the default)" if default else ""
            self.problem(line, f"{what} {role!r}{suffix} is a role nobody holds in webcare.toml")

    # -- steps ----------------------------------------------------------------------------------

    def steps(self, nodes: list[SyntaxTreeNode]) -> list[Step]:
        sections: list[tuple[SyntaxTreeNode, list[SyntaxTreeNode]]] = []
        for node in nodes:
            if node.type == "heading" and node.tag == "h2":
                sections.append((node, []))
            elif sections:
                sections[-1][1].append(node)
        if not sections:
            self.problem(1, "the playbook has no steps (each step is a `##` heading)")
            return []
        seen: dict[str, int] = {}
        for heading, _ in sections:
            step_id, line = slugify(_plain_text(heading)), _line(heading)
            if step_id and step_id in seen:
                self.problem(line, f"duplicate step id {step_id!r} (the heading on line {seen[step_id]} has it too)")
            seen.setdefault(step_id, line)
        steps: list[Step] = []
        unlocking: Step | None = None
        for heading, body in sections:
            step = self.step(heading, body)
            if step is None:
                continue
            if "replies" in step.unlocks:
                if unlocking is not None:
                    self.problem(step.line, f"only one step may unlock replies; step {unlocking.id!r} "
                                            f"on line {unlocking.line} already does")
                else:
                    unlocking = step
            steps.append(step)
        return steps

    def step(self, heading: SyntaxTreeNode, body: list[SyntaxTreeNode]) -> Step | None:
        line = _line(heading)
        title = _plain_text(heading).strip()
        step_id = slugify(title)
        if not step_id:
            self.problem(line, f"step heading {title!r} has no letters or digits to make a step id from")
        meta: dict[str, tuple[str, int]] = {}
        if body and body[0].type == "bullet_list":
            meta = self.step_metadata(body.pop(0))
        count = len(self.problems)
        owner = meta.get("owner")
        if owner is None:
            self.problem(line, f"step {title!r} has no `- owner: <role>` line under its heading")
        elif not owner[0]:
            self.problem(owner[1], "owner must name a role")
        else:
            self.check_role(owner[1], "owner", owner[0])
        due = None
        if "due" in meta:
            due = parse_due(meta["due"][0])
            if due is None:
                self.problem(meta["due"][1], f"due {meta['due'][0]!r} is not a duration like 10m, 2h or 1d")
        unlocks: frozenset[str] = frozenset()
        if "unlocks" in meta:
            value, value_line = meta["unlocks"]
            unlocks = frozenset(t.strip() for t in value.split(",") if t.strip())
            for target in sorted(unlocks - set(UNLOCK_TARGETS)) or ([] if unlocks else [value]):
                self.problem(value_line, f"unknown unlocks target {target!r} (expected {', '.join(UNLOCK_TARGETS)})")
        optional = False
        if "optional" in meta:
            value, value_line = meta["optional"]
            if value not in ("true", "false"):
                self.problem(value_line, f"optional must be true or false, not {value!r}")
            optional = value == "true"
        guidance: list[str] = []
        templates: list[str] = []
        for node in body:
            if node.type == "blockquote":
                template = "\n\n".join(n.content for n in node.walk() if n.type == "inline").strip()
                if not template:
                    self.problem(_line(node), f"empty reply template (blockquote) in step {title!r}")
                templates.append(template)
            elif node.map is not None:
                guidance.append("\n".join(self.lines[node.map[0]:node.map[1]]).strip())
        if not step_id or len(self.problems) > count or owner is None:
            return None
        return Step(id=step_id, title=title, line=line, owner=owner[0], due=due, unlocks=unlocks, optional=optional,
                    guidance="\n\n".join(g for g in guidance if g), templates=tuple(templates))

    def step_metadata(self, node: SyntaxTreeNode) -> dict[str, tuple[str, int]]:
        meta: dict[str, tuple[str, int]] = {}
        for item in node.children:
            line = _line(item)
            blocks = item.children
            if len(blocks) != 1 or blocks[0].type != "paragraph":
                self.problem(line, "a step metadata item must be one `key: value` line")
                continue
            content = _inline_text(blocks[0])
            key, colon, value = content.partition(":")
            key, value = key.strip(), value.strip()
            if not colon or "\n" in content:
                self.problem(line, f"step metadata must be `key: value` lines, not {content!r}")
            elif key not in STEP_KEYS:
                self.problem(line, f"unknown step key {key!r} (expected {', '.join(STEP_KEYS)})")
            elif key in meta:
                self.problem(line, f"step key {key!r} is given twice")
            else:
                meta[key] = (value, line)
        return meta


def _line(node: SyntaxTreeNode) -> int:
    return node.map[0] + 1 if node.map else 1


def _inline_text(node: SyntaxTreeNode) -> str:
    """The raw inline source of a heading or paragraph."""
    return "".join(child.content for child in node.children if child.type == "inline")


def _plain_text(node: SyntaxTreeNode) -> str:
    """The text of a heading without its markdown markup."""
    return "".join(token.content for child in node.children if child.type == "inline" and child.token
                   for token in child.token.children or () if token.type in ("text", "code_inline"))


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else f"{value!r} ({type(value).__name__})"
