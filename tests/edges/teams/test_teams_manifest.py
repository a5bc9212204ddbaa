"""Teams app package: a zip with a valid manifest for the bot and two icons Teams accepts."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.core.intents import CRISIS_COMMANDS, TEXT_COMMANDS, text_query
from bot.core.mentions import Actor, DomainError
from bot.core.views import PersonRef
from bot.teams.manifest import build_app_package

APP_ID = "6F1C2A4B-0000-4D2E-9A11-00000000B075"
HOST = "webcare.example.com"


def package(**changes: str) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(build_app_package(**{"app_id": APP_ID, "host": HOST, **changes})))


def manifest(**changes: str) -> dict:
    return json.loads(package(**changes).read("manifest.json"))


def png(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int, int]]]]:
    """Decode an 8-bit RGBA PNG: width, height and rows of pixels; check every chunk's CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, []
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, color, interlace) == (8, 6, 0), "expected 8-bit RGBA, not interlaced"
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride, rows, previous = width * 4, [], bytearray(width * 4)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - 4] if x >= 4 else 0
            up, corner = previous[x], previous[x - 4] if x >= 4 else 0
            guess = left + up - corner
            paeth = min((abs(guess - left), left), (abs(guess - up), up), (abs(guess - corner), corner))[1]
            line[x] = (line[x] + (0, left, up, (left + up) // 2, paeth)[kind]) & 0xFF
        rows.append([tuple(line[i:i + 4]) for i in range(0, stride, 4)])
        previous = line
    return width, height, rows


def test_package_holds_the_manifest_and_both_icons_at_its_root() -> None:
    zipped = package()
    assert sorted(zipped.namelist()) == ["color.png", "manifest.json", "outline.png"]
    assert zipped.testzip() is None
    assert build_app_package(app_id=APP_ID, host=HOST) == build_app_package(app_id=APP_ID, host=HOST)


def test_manifest_declares_the_bot_with_its_app_id_scopes_and_commands() -> None:
    found = manifest()
    version = found["manifestVersion"]
    assert tuple(int(p) for p in version.split(".")) >= (1, 16)
    assert found["$schema"] == f"https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    assert found["id"] == APP_ID.lower()
    (bot,) = found["bots"]
    assert bot["botId"] == APP_ID.lower()
    assert set(bot["scopes"]) >= {"team", "personal"}
    menus = {scope: [c["title"] for c in menu["commands"]] for menu in bot["commandLists"] for scope in menu["scopes"]}
    assert set(menus) == set(bot["scopes"])  # one menu per scope, as Teams asks
    assert "mine" in menus["personal"] and "crisis start" in menus["team"]
    for menu in bot["commandLists"]:
        assert 0 < len(menu["commands"]) <= 10  # the most any manifest version takes
        assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in menu["commands"])
    assert found["validDomains"] == [HOST]
    assert found["icons"] == {"color": "color.png", "outline": "outline.png"}
    for required in ("version", "developer", "name", "description", "accentColor"):
        assert found[required]
    assert all(url == f"https://{HOST}/" for url in found["developer"].values() if url.startswith("https"))
    assert len(found["name"]["short"]) <= 30 and len(found["description"]["short"]) <= 80


def test_manifest_uses_the_given_name() -> None:
    assert manifest(name="Acme Care")["name"]["short"] == "Acme Care"
    assert manifest(host="Bot.Example.org")["validDomains"] == ["bot.example.org"]


def test_color_icon_is_a_192_pixel_png() -> None:
    width, height, rows = png(package().read("color.png"))
    assert (width, height) == (192, 192)
    assert len({pixel for row in rows for pixel in row}) > 2  # a glyph, not a blank square


def test_outline_icon_is_a_32_pixel_white_glyph_on_transparency() -> None:
    width, height, rows = png(package().read("outline.png"))
    assert (width, height) == (32, 32)
    pixels = [pixel for row in rows for pixel in row]
    assert rows[0][0][3] == 0 and rows[-1][-1][3] == 0
    visible = [p for p in pixels if p[3] > 0]
    assert 0 < len(visible) < len(pixels) // 2
    assert all(p[:3] == (255, 255, 255) for p in visible)


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "28:00000000-0000-0000-0000-00000000b075",
                                    "6f1c2a4b00004d2e9a1100000000b075", "{6f1c2a4b-0000-4d2e-9a11-00000000b075}"])
def test_app_id_must_be_a_guid(app_id: str) -> None:
    with pytest.raises(ValueError, match="GUID"):
        build_app_package(app_id=app_id, host=HOST)


@pytest.mark.parametrize("host", ["", "https://webcare.example.com", "webcare.example.com/api/messages",
                                  "webcare.example.com:443", "webcare example.com", "user@webcare.example.com",
                                  "webcare.example.com?x=1"])
def test_host_must_be_a_bare_host_name(host: str) -> None:
    with pytest.raises(ValueError, match="host name"):
        build_app_package(app_id=APP_ID, host=host)


@pytest.mark.parametrize("name", ["", "   ", "W" * 31])
def test_app_name_must_fit_teams(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        build_app_package(app_id=APP_ID, host=HOST, name=name)


def grammar() -> set[str]:
    """Every command `bot.core.intents` documents: `help`, `mine`, …, and each `crisis <verb>`."""
    plain = {part.split()[0] for part in TEXT_COMMANDS.split(" | ") if part.split()[0] != "crisis"}
    crisis = {" ".join(part.split()[:2]) for part in CRISIS_COMMANDS.split(";")[0].split(" | ")}
    return plain | crisis


def test_every_command_the_bot_understands_is_in_a_command_menu_and_each_entry_is_understood() -> None:
    titles = {c["title"] for menu in manifest()["bots"][0]["commandLists"] for c in menu["commands"]}
    assert grammar() <= titles, grammar() - titles
    assert {"help", "mine", "queue", "stats", "playbooks", "crisis start", "crisis end", "crisis report"} <= grammar()
    who = Actor(PersonRef("anna", "Anna de Vries"), frozenset({"webcare", "crisis-lead"}))
    for title in titles:  # picking an entry types its title: the bot knows it (at most it asks for the rest)
        try:
            text_query(title, who)
        except DomainError as exc:
            assert "Unknown" not in exc.user_message and "Usage" in exc.user_message, (title, exc.user_message)


def test_manifest_asks_for_resource_specific_consent_to_read_the_team_s_channel_messages() -> None:
    found = manifest()
    assert found["webApplicationInfo"]["id"] == APP_ID.lower() and found["webApplicationInfo"]["resource"]
    assert found["authorization"]["permissions"]["resourceSpecific"] == [
        {"name": "ChannelMessage.Read.Group", "type": "Application"}]
    assert tuple(int(p) for p in found["manifestVersion"].split(".")) >= (1, 12)  # RSC in `authorization` from 1.12


def test_a_new_version_gives_a_package_teams_takes_as_an_update(tmp_path) -> None:
    out = tmp_path / "packages" / "webcare-2.zip"  # the folder is created
    result = CliRunner().invoke(main, ["teams-manifest", "--app-id", APP_ID, "--host", HOST, "--version", "2.0.1",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(out).read("manifest.json"))["version"] == "2.0.1"
    default = tmp_path / "default.zip"
    assert CliRunner().invoke(main, ["teams-manifest", "--app-id", APP_ID, "--host", HOST, "--out",
                                     str(default)]).exit_code == 0
    from importlib.metadata import version
    assert json.loads(zipfile.ZipFile(default).read("manifest.json"))["version"] == version("webcare-bot")


@pytest.mark.parametrize("version", ["2", "v2.0.1", "2.0", "two"])
def test_a_version_teams_would_refuse_is_refused_in_one_line(tmp_path, version: str) -> None:
    out = tmp_path / "webcare.zip"
    result = CliRunner().invoke(main, ["teams-manifest", "--app-id", APP_ID, "--host", HOST, "--version", version,
                                       "--out", str(out)])
    assert result.exit_code == 2 and "version must look like 1.0.0" in result.output
    assert "Traceback" not in result.output and not out.exists()
