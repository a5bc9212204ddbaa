"""The message catalogue: every word the bot writes, in English and Dutch, looked up by key and filled in.

The messages live in `bot/core/locale/<lang>/<part>.toml`, one file per part of the bot; a key is the file's
name and the message's name (`sla.left`). A message is a `str.format` template with named fields only, or a
table `{ one = "…", other = "…" }` chosen by a count (English and Dutch both count one and many).
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

LANGS = ("en", "nl")  # the languages a team or a person may choose ([team] lang, [people.x] lang)
DEFAULT_LANG = "en"
LOCALE = Path(__file__).with_name("locale")

Template = str | Mapping[str, str]  # a message, or its forms by count ("one", "other")


class CatalogueError(ValueError):
    """A message file is broken: the catalogue names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class Words:
    """The catalogue in one language: `say("sla.left", minutes=12)` → "12 min left"."""

    lang: str
    messages: Mapping[str, Template]

    def __call__(self, key: str, /, **fields: object) -> str:
        """The message `key`, its fields filled in; a counted message takes its form from the field `count`."""
        template = self.messages[key]
        if not isinstance(template, str):
            count = fields.get("count")
            if not isinstance(count, int):
                raise TypeError(f"{key} is counted: give it count=<int>")
            template = template["one" if count == 1 else "other"]
        return template.format_map(fields)


def words(lang: str) -> Words:
    """The catalogue in `lang` (one of LANGS)."""
    if lang not in LANGS:
        raise ValueError(f"no messages in {lang!r}: the bot speaks {', '.join(LANGS)}")
    return _loaded(lang)


@cache
def _loaded(lang: str) -> Words:
    return Words(lang, MappingProxyType(load(LOCALE / lang)))


def load(folder: Path) -> dict[str, Template]:
    """Every message in one language's folder, keyed `<file>.<name>`; a file that is not valid TOML, or a message
    that is neither text nor a table of forms, is a CatalogueError naming it."""
    messages: dict[str, Template] = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path.name}: {exc}") from None
        for name, template in table.items():
            if not _is_template(template):
                raise CatalogueError(f"{path.name}: {name} must be text or a table of one/other forms")
            messages[f"{path.stem}.{name}"] = template
    return messages


def fields(template: Template) -> frozenset[str]:
    """The names a message fills in (of all its forms), so two languages can be held to the same ones."""
    forms = [template] if isinstance(template, str) else list(template.values())
    return frozenset(name for form in forms for _, name, _, _ in string.Formatter().parse(form) if name)


def _is_template(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and set(value) == {"one", "other"} and \
        all(isinstance(form, str) for form in value.values())
