"""Helpers of the inbound bad-input tests: raw half-sent requests, and what the log may and may not hold."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.http import body as http_body
from tests.support import settings, team_config

SLOW_BODY_SECONDS = 0.5  # the body read timeout in these tests (10 s in production)
FORGED = "\nERROR bot.app: forged line"  # a newline in a refused body must not start a log line of its own


class ServedServer(TestServer):
    """A test server that, like `web.run_app`, lets a handler finish when its client hangs up (aiohttp's test
    server cancels it instead, so a client that went away would look different here than in production)."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return await super()._make_runner(**{**kwargs, "handler_cancellation": False})


@asynccontextmanager
async def served(database_url: str, slack_url: str | None = None, **overrides: Any) -> AsyncIterator[TestClient]:
    """The whole app, served as `webcare serve` serves it (see ServedServer)."""
    app = create_app(settings(database_url, slack_url, **overrides), config=team_config(), relay_poll_seconds=0.05,
                     reminder_seconds=3600)
    async with TestClient(ServedServer(app)) as client:
        yield client


def short_body_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the server give up on a stalled body after SLOW_BODY_SECONDS."""
    monkeypatch.setattr(http_body, "BODY_TIMEOUT_SECONDS", SLOW_BODY_SECONDS, raising=False)


def head(path: str, headers: dict[str, str], length: int) -> bytes:
    """An HTTP/1.1 request head announcing `length` body bytes."""
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"POST {path} HTTP/1.1\r\nHost: x\r\n{lines}Content-Length: {length}\r\n\r\n".encode()


async def half_sent(client: TestClient, path: str, headers: dict[str, str], body: bytes) -> int:
    """Send the head and half the body, then stall: the status the server answers with (bounded wait)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head(path, headers, len(body)) + body[: len(body) // 2])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), SLOW_BODY_SECONDS + 10)
    finally:
        writer.close()
    return int(status_line.split()[1])


async def abandoned(client: TestClient, path: str, headers: dict[str, str], body: bytes) -> None:
    """Send the head and half the body, then hang up, as a client that went away does."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head(path, headers, len(body)) + body[: len(body) // 2])
    await writer.drain()
    await asyncio.sleep(0.1)  # the server is reading the body by now
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.2)  # the server notices the closed connection


def assert_quiet_log(caplog: pytest.LogCaptureFixture, *, limit: int = 1000) -> None:
    """No traceback, no ERROR, and no forged or long line at INFO and above, in what was logged."""
    for record in caplog.records:
        text = logging.Formatter().format(record)
        assert record.levelno < logging.ERROR, text
        assert record.exc_info is None and "Traceback" not in text, text
        if record.levelno >= logging.INFO:  # libraries' DEBUG lines may show whole API calls
            assert "\n" not in text, text
            assert len(text) <= limit, text[:300]


def refusals(caplog: pytest.LogCaptureFixture, route: str) -> list[str]:
    """The refusal lines a route logged (`<route>: refused <status> <code>: <why>`)."""
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{route}: refused ")]
