"""A real mastodon-mock server in a subprocess, the few API calls tests need, and a response-losing proxy."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

CONFIG = """\
[database]
path = "{db}"

[seed]
accounts = []
"""


@dataclass(frozen=True, slots=True)
class MockAccount:
    """A local account on the mock and a token that acts as it."""

    id: str
    acct: str
    token: str


@dataclass(slots=True)
class MastodonMock:
    """Drives a running mastodon-mock over its HTTP API (blocking calls; the server is another process)."""

    base_url: str
    _serial: int = field(default=0)

    def call(self, method: str, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
        """Send one request; return (status, parsed JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request that must succeed; return its JSON body."""
        status, payload = self.call(method, path, **kwargs)
        if status != 200:
            raise AssertionError(f"{method} {path} -> {status}: {payload}")
        return payload

    def create_account(self, name: str) -> MockAccount:
        """Register a fresh local account (unique per call) and return it with its token."""
        self._serial += 1
        made = self.ok("POST", "/api/v1/_mock/dev_user", body={"username": f"{name}{self._serial}"})
        return MockAccount(id=made["id"], acct=made["username"], token=made["access_token"])

    def post_status(self, account: MockAccount, text: str, *, visibility: str = "public") -> dict[str, Any]:
        """Post a status as `account`."""
        return self.ok("POST", "/api/v1/statuses", token=account.token, body={"status": text, "visibility": visibility})

    def delete_status(self, account: MockAccount, status_id: str) -> None:
        """Delete one of `account`'s statuses."""
        self.ok("DELETE", f"/api/v1/statuses/{status_id}", token=account.token)

    def replies(self, status_id: str, *, viewer: MockAccount) -> list[dict[str, Any]]:
        """Return the descendants of a status as `viewer` sees its thread."""
        return self.ok("GET", f"/api/v1/statuses/{status_id}/context", token=viewer.token)["descendants"]

    def statuses_of(self, account: MockAccount) -> list[dict[str, Any]]:
        """Return the statuses `account` has posted (newest first)."""
        return self.ok("GET", f"/api/v1/accounts/{account.id}/statuses", token=account.token)

    def fail_next(
        self, method: str, path: str, *, status: int, count: int, headers: dict[str, str] | None = None
    ) -> None:
        """Make the next `count` matching requests answer `status` without reaching the API."""
        rule = {
            "match": {"methods": [method], "path": path},
            "effect": {"type": "status", "status": status, "headers": headers or {}},
            "count": count,
        }
        self.ok("POST", "/api/v1/_mock/faults", body=rule)

    def pending_faults(self) -> list[dict[str, Any]]:
        """Return the fault rules that have not fired their budget yet."""
        return self.ok("GET", "/api/v1/_mock/faults")

    def clear_faults(self) -> None:
        """Drop every fault rule."""
        self.ok("DELETE", "/api/v1/_mock/faults")


@contextlib.contextmanager
def running_mastodon_mock(*, startup_timeout: float = 30.0) -> Iterator[MastodonMock]:
    """Run `mastodon_mock serve` on a free 127.0.0.1 port with a throwaway SQLite file; stop it on exit."""
    with tempfile.TemporaryDirectory(prefix="mastodon-mock-") as tmp:
        config = Path(tmp, "mastodon_mock.toml")
        config.write_text(CONFIG.format(db=Path(tmp, "mock.sqlite").as_posix()))
        log_path = Path(tmp, "server.log")
        for _ in range(3):  # the free port may be taken between choosing and binding it
            port = _free_port()
            with log_path.open("wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mastodon_mock", "serve", "--config", str(config),
                     "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                    cwd=tmp, stdout=log, stderr=subprocess.STDOUT,
                )  # fmt: skip
            try:
                base_url = f"http://127.0.0.1:{port}"
                if _wait_until_healthy(proc, base_url, startup_timeout):
                    yield MastodonMock(base_url)
                    return
            finally:
                _stop(proc)
        raise RuntimeError(f"mastodon-mock did not start:\n{log_path.read_text(errors='replace')[-2000:]}")


@dataclass(slots=True)
class LossyProxy:
    """Forwards everything to an upstream, but loses the first answers to matching requests."""

    upstream: str
    method: str
    path: str
    lose: int
    lost: int = 0
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Forward `request`; answer 502 instead of the real answer while losses remain."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with aiohttp.ClientSession() as session:
            async with session.request(
                request.method, self.upstream + request.path_qs, headers=headers, data=await request.read()
            ) as upstream:
                body = await upstream.read()
                content_type = upstream.headers.get("Content-Type", "application/json")
                status = upstream.status
        if request.method == self.method and request.path == self.path and self.lost < self.lose:
            self.lost += 1
            return web.json_response({"error": "Bad gateway"}, status=502)
        return web.Response(body=body, status=status, headers={"Content-Type": content_type})


@contextlib.asynccontextmanager
async def lossy_proxy(upstream: str, *, method: str, path: str, lose: int = 1) -> AsyncIterator[LossyProxy]:
    """Serve a LossyProxy in front of `upstream` on 127.0.0.1; the effect happens, the answer is lost."""
    proxy = LossyProxy(upstream, method, path, lose)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    proxy.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield proxy
    finally:
        await server.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(proc: subprocess.Popen[bytes], base_url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=1) as resp:
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
