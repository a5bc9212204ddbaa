"""Teams app package: a zip with a valid manifest for the bot and two icons Teams accepts."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest

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
    (commands,) = bot["commandLists"]
    assert [c["title"] for c in commands["commands"]] == ["help", "mine", "queue", "stats"]
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands["commands"])
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
