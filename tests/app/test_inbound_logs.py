"""App: the access log, JSON logs from `webcare serve`, secrets masked in them, and no third-party debug flood."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.app.test_serve import clean_env
from tests.inbound import FORGED
from tests.processes import free_port, until_healthy
from tests.support import INGEST_SECRET, running_app

SHIPPED_PLAYBOOKS = Path(__file__).parents[2] / "playbooks"  # parsed at start-up (markdown-it logs every rule)
ACCESS_LINE = re.compile(r"^(GET|POST) (\S+) (\d{3}) \d+\.\d ms$")


async def test_every_request_gets_one_access_line_without_query_or_body(sqlite_url, caplog):
    async with running_app(sqlite_url) as client:
        await client.get("/healthz", params={"token": "xyz-query-value"})
        await client.post("/ingest/v1/mentions", data=b'{"secret": "abc-body-value"}',
                          headers={"Content-Type": "application/json"})
        await client.get("/no/such%0Apage")
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.access"]
    assert [ACCESS_LINE.match(line).groups() for line in lines] == [  # type: ignore[union-attr]
        ("GET", "/healthz", "200"), ("POST", "/ingest/v1/mentions", "401"), ("GET", "/no/such%0Apage", "404")]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "xyz-query-value" not in ours and "abc-body-value" not in ours


async def _exercise(port: int) -> None:
    async with aiohttp.ClientSession() as session:
        await until_healthy(session, f"http://127.0.0.1:{port}")
        secret_path = INGEST_SECRET.removeprefix("whsec_")
        async with session.get(f"http://127.0.0.1:{port}/{secret_path}") as response:
            assert response.status == 404
        async with session.post(f"http://127.0.0.1:{port}/ingest/v1/mentions", data=FORGED.encode(),
                                headers={"Content-Type": "application/json"}) as response:
            assert response.status == 401


def test_serve_logs_json_lines_masked_and_without_markdown_parser_noise(tmp_path):
    port = free_port()
    stderr = tmp_path / "stderr.log"
    env = clean_env(PORT=str(port), WEBCARE_LOG_FORMAT="json", WEBCARE_INGEST_SECRET=INGEST_SECRET,
                    WEBCARE_PLAYBOOKS_DIR=str(SHIPPED_PLAYBOOKS))
    with stderr.open("wb") as err:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--log-level", "debug"], cwd=tmp_path,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        asyncio.run(_exercise(port))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    text = stderr.read_text()
    records = [json.loads(line) for line in text.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    messages = {(r["logger"], r["message"]) for r in records}
    assert ("bot.access", "GET /healthz 200") in {(logger, m.rsplit(" ", 2)[0]) for logger, m in messages}
    assert ("bot.ingest.route", "ingest: refused 401 invalid_signature: Signature check failed: missing header "
                                "webhook-id, webhook-timestamp, webhook-signature.") in messages
    assert ("bot.access", "GET /[redacted]") in {(logger, m.rsplit(" ", 3)[0]) for logger, m in messages}
    assert INGEST_SECRET.removeprefix("whsec_") not in text and "forged" not in text
    assert not [r for r in records if r["logger"].startswith(("markdown_it", "aiosqlite"))]
    assert len(records) < 200, f"{len(records)} lines at DEBUG for start-up and three requests"
