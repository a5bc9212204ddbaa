"""The real server as a subprocess (`python -m bot serve`): start it, wait until it answers, stop or kill it."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.support import INGEST_SECRET, SLACK_SIGNING_SECRET, SLACK_TOKEN, TEAM_TOML, TRIAGE_CHANNEL

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Variables the server reads; the test's own environment must not leak into the child.
_SERVER_ENV_PREFIXES = ("WEBCARE_", "SLACK_", "MICROSOFT_", "TEAMS_", "MASTODON_")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(directory: Path) -> Path:
    """The test team (tests/fixtures/webcare.toml) as a webcare.toml in `directory`."""
    path = directory / "webcare.toml"
    shutil.copy(TEAM_TOML, path)
    return path


def server_env(database_url: str, slack_url: str, port: int, config_path: Path, **extra: str) -> dict[str, str]:
    """The environment of one server process: this test's database, fake Slack and team, nothing inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_ENV_PREFIXES)}
    env.update(HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1",
               WEBCARE_DATABASE_URL=database_url, WEBCARE_INGEST_SECRET=INGEST_SECRET,
               WEBCARE_CONFIG=str(config_path), SLACK_BOT_TOKEN=SLACK_TOKEN,
               SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET, SLACK_TRIAGE_CHANNEL=TRIAGE_CHANNEL,
               SLACK_API_URL=slack_url)
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """One running `python -m bot serve`, its URL and its captured stderr."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    stderr_path: Path

    @property
    def running(self) -> bool:
        """The process has not exited."""
        return self.process.poll() is None

    def stderr(self) -> str:
        """Everything the server logged so far."""
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-request, without cleaning up."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        """Wait for the process to exit and return its exit status."""
        return await asyncio.to_thread(self.process.wait, timeout)

    async def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, the way a platform stops a dyno, and wait for a graceful exit (SIGKILL after `timeout`)."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            await self.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM for {timeout} s:\n{self.stderr()[-3000:]}") from None


async def until_healthy(session: aiohttp.ClientSession, base_url: str, *, tries: int = 300) -> None:
    """Wait until a server just started answers GET /healthz with 200."""
    for _ in range(tries):
        try:
            async with session.get(f"{base_url}/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError(f"{base_url} did not answer /healthz")


async def start_server(database_url: str, slack_url: str, workdir: Path, *, name: str = "server",
                       port: int | None = None, timeout: float = START_TIMEOUT, **extra_env: str) -> ServerProcess:
    """Start the server in `workdir` and return once GET /healthz answers 200."""
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "webcare.toml"
    if not config_path.exists():
        write_config(workdir)
    port = port or free_port()
    stderr_path = workdir / f"{name}.{int(time.time() * 1000)}.stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "bot", "serve"], cwd=workdir, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=stderr,
            env=server_env(database_url, slack_url, port, config_path, **extra_env))
    server = ServerProcess(name=name, url=f"http://127.0.0.1:{port}", process=process, stderr_path=stderr_path)
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while time.monotonic() < deadline:
            if not server.running:
                raise AssertionError(f"{name} exited with {process.returncode} while starting:\n{server.stderr()}")
            try:
                async with session.get(f"{server.url}/healthz") as response:
                    if response.status == 200:
                        return server
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.05)
    server.kill()
    await server.wait()
    raise AssertionError(f"{name} did not answer /healthz within {timeout} s:\n{server.stderr()}")


@asynccontextmanager
async def server_process(database_url: str, slack_url: str, workdir: Path, *, name: str = "server",
                         **extra_env: str) -> AsyncIterator[ServerProcess]:
    """A server for the duration of the block; killed at the end if the test left it running."""
    server = await start_server(database_url, slack_url, workdir, name=name, **extra_env)
    try:
        yield server
    finally:
        if server.running:
            server.kill()
            await server.wait()
