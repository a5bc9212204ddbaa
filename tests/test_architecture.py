"""House rules that keep the codebase honest: SDKs stay at the edge, every module says what it holds."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
EDGE = ("bot/slack/", "bot/teams/")
SOURCES = sorted(p for d in ("bot", "handlers", "migrations", "bench") for p in (ROOT / d).rglob("*.py")
                 if "versions" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_platform_sdks_are_imported_only_by_the_edges(path):
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(EDGE) or relative == "bot/app.py":
        return
    leaks = sorted(m for m in imported_modules(path) if m.split(".")[0] in SDKS)
    assert not leaks, f"{relative} imports {leaks}: only bot/slack, bot/teams and bot/app.py may"


def test_handlers_never_import_an_edge():
    for path in (ROOT / "handlers").rglob("*.py"):
        edges = [m for m in imported_modules(path) if m.startswith(("bot.slack", "bot.teams", "bot.app"))]
        assert not edges, f"{path.name} imports {edges}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_starts_with_a_docstring_and_stays_small(path):
    source = path.read_text()
    assert ast.get_docstring(ast.parse(source)), f"{path.relative_to(ROOT)} has no module docstring"
    assert source.count("\n") <= 500, f"{path.relative_to(ROOT)} is over 500 lines: split it by intent"
