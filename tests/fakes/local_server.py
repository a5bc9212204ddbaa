"""The lifecycle every fake shares: its aiohttp app served on a real local port, as `async with`."""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LocalServer:
    """Subclasses build the app (`make_app`) and say what their base URL is (`_base_url`)."""

    def __init__(self, host: str, port: int) -> None:
        self.url = ""
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None

    def make_app(self) -> web.Application:
        """The aiohttp application this fake serves."""
        raise NotImplementedError

    def _base_url(self, host: str, port: int) -> str:
        raise NotImplementedError

    async def start(self) -> str:
        """Listen on a real TCP port and return the base URL."""
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        host, port = self._runner.addresses[0][:2]
        self.url = self._base_url(host, port)
        return self.url

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
