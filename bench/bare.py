"""The baseline server: a bare aiohttp handler that reads the body and answers 202 JSON (canned invoke answers: 200)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop
from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    """Read the whole body and answer like the ingest route does, with no work in between."""
    body = await request.read()
    return web.json_response({"mentions": [{"id": len(body), "duplicate": False}]}, status=202)


def invoke_answerer(canned: bytes) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that reads the whole body and answers 200 with `canned`, as a Teams invoke is answered."""

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=canned, content_type="application/json")

    return answer


async def healthz(request: web.Request) -> web.Response:
    """Liveness, so the bench knows the process is ready."""
    return web.json_response({"status": "ok"})


def main() -> None:
    """Serve on $HOST:$PORT the way `webcare serve` does (same loop, no access log).

    With $BENCH_INVOKE_ANSWER (a file), `POST /api/messages` answers 200 with that file's bytes.
    """
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    if canned := os.environ.get("BENCH_INVOKE_ANSWER"):
        app.router.add_post("/api/messages", invoke_answerer(Path(canned).read_bytes()))
    app.router.add_post("/{tail:.*}", accept)
    # The same event loop as `webcare serve`, so the ratio compares the handlers, not the loops.
    web.run_app(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ["PORT"]),
                access_log=None, print=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
