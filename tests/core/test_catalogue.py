"""The message catalogue: every message in English and Dutch with the same fields, every key the code names exists,
and no message is left that nothing uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.core.catalogue import LANGS, LOCALE, CatalogueError, fields, load, words

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {lang: load(LOCALE / lang) for lang in LANGS}
PARTS = {path.stem for path in (LOCALE / "en").glob("*.toml")}
KEY = re.compile(r"([a-z_]+)\.[a-z0-9_]+")


def _keys_named_in_code() -> set[str]:
    """Every string literal in bot/ and handlers/ that reads like a catalogue key (`<part>.<name>`), but in the
    storage layer, which writes no words (its `crisis.id` is a column), and in config.py, whose `priority.keywords`
    names a webcare.toml key in its errors."""
    named = set()
    for path in [*ROOT.joinpath("bot").rglob("*.py"), *ROOT.joinpath("handlers").rglob("*.py")]:
        if path.parent.name == "storage" or path == ROOT / "bot" / "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                match = KEY.fullmatch(node.value)
                if match and match.group(1) in PARTS:
                    named.add(node.value)
    return named


def test_every_message_exists_in_english_and_dutch() -> None:
    english, dutch = set(CATALOGUES["en"]), set(CATALOGUES["nl"])
    assert english, "the catalogue is empty"
    assert sorted(english - dutch) == [], "messages with no Dutch"
    assert sorted(dutch - english) == [], "messages with no English"


def test_both_languages_fill_in_the_same_fields() -> None:
    differing = {key: (sorted(fields(template)), sorted(fields(CATALOGUES["nl"][key])))
                 for key, template in CATALOGUES["en"].items() if fields(template) != fields(CATALOGUES["nl"][key])}
    assert differing == {}


def test_the_languages_differ_where_a_person_reads_them() -> None:
    """A message copied into nl/ untranslated would pass the key check: most messages must read differently."""
    same = [key for key, template in CATALOGUES["en"].items() if template == CATALOGUES["nl"][key]]
    assert len(same) <= len(CATALOGUES["en"]) // 10, f"untranslated: {same}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_fills_in(lang: str) -> None:
    say = words(lang)
    for key, template in CATALOGUES[lang].items():
        filled = {name: "x" for name in fields(template)} | {"count": 2}
        assert "{" not in say(key, **filled) or "{{" in str(template), key


def test_every_key_the_code_names_is_in_the_catalogue_and_every_message_is_used() -> None:
    named = _keys_named_in_code()
    assert sorted(named - set(CATALOGUES["en"])) == [], "keys the code names that the catalogue lacks"
    assert sorted(set(CATALOGUES["en"]) - named) == [], "messages nothing uses"


def test_a_counted_message_takes_its_form_from_the_count() -> None:
    say = words("nl")
    one, many = say("clock.gathered_title", count=1), say("clock.gathered_title", count=3)
    assert one != many and "3" in many


def test_a_broken_message_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "cards.toml").write_text('claim = "Claim"\nbroken = [1, 2]\n', encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"cards\.toml: broken"):
        load(tmp_path)


def test_a_language_the_bot_does_not_speak_is_refused() -> None:
    with pytest.raises(ValueError, match="en, nl"):
        words("de")
