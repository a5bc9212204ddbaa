"""The baseline server: a bare aiohttp handler that reads the body and answers 202 JSON on any POST."""

from __future__ import annotations

import os

from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    """Read the whole body and answer like the ingest route does, with no work in between."""
    body = await request.read()
    return web.json_response({"mentions": [{"id": len(body), "duplicate": False}]}, status=202)


async def healthz(request: web.Request) -> web.Response:
    """Liveness, so the bench knows the process is ready."""
    return web.json_response({"status": "ok"})


def main() -> None:
    """Serve on $HOST:$PORT the way `webcare serve` does (same loop, no access log)."""
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/{tail:.*}", accept)
    web.run_app(app, host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ["PORT"]),
                access_log=None, print=None)


if __name__ == "__main__":
    main()
