"""House rules: floors, no import circles, SDKs at the edge, small modules that say what they hold."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
SDKS = ("slack_bolt", "slack_sdk", "botbuilder", "botframework")
EDGE = ("bot/slack/", "bot/teams/")
SOURCES = sorted(p for d in ("bot", "handlers", "migrations", "bench") for p in (ROOT / d).rglob("*.py")
                 if "versions" not in p.parts)
TESTS = sorted((ROOT / "tests").rglob("*.py"))
APP = sorted(p for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py"))
CORE_MAY_USE = {"pydantic", "yaml", "markdown_it", "mdit_py_plugins", "snowballstemmer"}
SQL_LIBRARIES = ("sqlalchemy", "sqlmodel", "alembic")
# Composition (app, cli, the doctor's checklist) and the edges may call the use cases; nothing else in bot/ may.
MAY_IMPORT_HANDLERS = ("bot/app.py", "bot/cli.py", "bot/slack/", "bot/teams/", "bot/ingest/")


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


@pytest.mark.parametrize("path", SOURCES + TESTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_module_starts_with_a_docstring_and_stays_small(path):
    source = path.read_text()
    assert ast.get_docstring(ast.parse(source)), f"{path.relative_to(ROOT)} has no module docstring"
    assert source.count("\n") <= 500, f"{path.relative_to(ROOT)} is over 500 lines: split it by intent"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules this file imports, wherever the import stands (a lazy import is an edge too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = {f"{node.module}.{alias.name}" for alias in node.names}
            found.update(names & known or ({node.module} & known))
    return found


def circles() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    known = {module_name(p) for p in APP}
    graph = {module_name(p): project_imports(p, known) - {module_name(p)} for p in APP}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert circles() == [], "modules that import each other (directly or round a loop)"


@pytest.mark.parametrize("path", sorted((ROOT / "bot" / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_only_core_the_standard_library_and_its_few_libraries(path):
    outside = sorted(m for m in imported_modules(path) if not m.startswith("bot.core") and m != "__future__"
                     and m.split(".")[0] not in sys.stdlib_module_names | CORE_MAY_USE)
    assert not outside, f"{path.relative_to(ROOT)} imports {outside}: bot/core is pure vocabulary and rules"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_only_storage_speaks_sql(path):
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(("bot/storage/", "migrations/")):
        return
    leaks = sorted(m for m in imported_modules(path) if m.split(".")[0] in SQL_LIBRARIES)
    assert not leaks, f"{relative} imports {leaks}: only bot/storage may (handlers use its unit of work)"


@pytest.mark.parametrize("path", sorted((ROOT / "bot").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_below_the_edges_nothing_in_bot_calls_the_use_cases(path):
    relative = path.relative_to(ROOT).as_posix()
    if relative.startswith(MAY_IMPORT_HANDLERS):
        return
    upward = sorted(m for m in imported_modules(path) if m.split(".")[0] == "handlers")
    assert not upward, f"{relative} imports {upward}: only app, cli and the edges may import handlers"


@pytest.mark.parametrize("floor", ["bot/http", "bot/storage", "bot/outbox", "bot/chat"])
def test_lower_floors_never_import_the_floors_above(floor):
    above = {"bot/http": ("bot.storage", "bot.outbox", "bot.chat", "bot.replies", "bot.slack", "bot.teams",
                          "bot.ingest", "bot.app", "handlers"),
             "bot/storage": ("bot.outbox", "bot.chat", "bot.slack", "bot.teams", "bot.ingest", "bot.app", "handlers"),
             "bot/outbox": ("bot.chat", "bot.slack", "bot.teams", "bot.ingest", "bot.app", "handlers"),
             "bot/chat": ("bot.storage", "bot.outbox", "bot.slack", "bot.teams", "bot.app", "handlers")}[floor]
    for path in sorted((ROOT / floor).rglob("*.py")):
        upward = sorted(m for m in imported_modules(path) if m.startswith(above))
        assert not upward, f"{path.relative_to(ROOT)} imports {upward} from a floor above {floor}"


# The process and its composition; everything else has a floor of its own (bot/core, bot/storage, bot/http…).
COMPOSITION = {"__init__", "__main__", "cli", "app", "settings", "config", "logs", "metrics", "doctor"}


def test_the_top_of_bot_holds_only_the_process_and_its_composition():
    loose = sorted(p.stem for p in (ROOT / "bot").glob("*.py") if p.stem not in COMPOSITION)
    assert not loose, f"bot/{loose} belong on a floor: see docs/architecture.md"


EDGE_MODULES = sorted(p for edge in EDGE for p in (ROOT / edge).rglob("*.py"))
POSTING = ("poster", "senders", "messenger")  # the modules that send the outbox's work to a chat platform


@pytest.mark.parametrize("path", EDGE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_edges_never_open_a_unit_of_work(path):
    opened = [node.lineno for node in ast.walk(ast.parse(path.read_text()))
              if isinstance(node, ast.Attribute) and node.attr == "uow"]
    assert not opened, f"{path.relative_to(ROOT)} opens a unit of work (line {opened}): call a handler instead"


def test_both_edges_post_through_a_poster_under_senders_of_the_same_names():
    names = {edge: sorted(p.stem for p in (ROOT / edge).glob("*.py") if any(w in p.stem for w in POSTING))
             for edge in EDGE}
    assert names["bot/slack/"] == names["bot/teams/"], f"the edges' posting modules differ: {names}"
    assert "poster" in names["bot/slack/"], names
    for edge, stems in names.items():
        package = edge.strip("/").replace("/", ".")
        for stem in stems:
            siblings = {f"{package}.{other}" for other in stems if other not in (stem, "poster")}
            crossed = sorted(imported_modules(ROOT / edge / f"{stem}.py") & siblings)
            assert not crossed, f"{edge}{stem}.py imports {crossed}: senders share the poster, not each other"


@pytest.mark.parametrize("path", sorted(p for d in ("handlers", "bot/core") for p in (ROOT / d).rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_use_cases_and_core_never_name_a_chat_platform(path):
    named = sorted({node.value for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.Constant) and node.value in ("slack", "teams")})
    assert not named, f"{path.relative_to(ROOT)} names {named}: people carry chat_ids, edges know their platform"
