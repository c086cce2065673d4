"""Running kubesim on an asyncio loop: the HTTP site and the wall-clock driver."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

from aiohttp import web

from .clock import WALL
from .cluster import Cluster
from .config import Config
from .http.app import create_app

log = logging.getLogger("kubesim")
MAX_TICK = 0.25  # wall seconds between driver wake-ups at most


class Server:
    """One cluster served over HTTP; must be started and stopped on its event loop."""

    def __init__(self, config: Config, host: str = "127.0.0.1", port: int = 0):
        self.config = config
        self.host = host
        self.port = port
        self.cluster: Cluster | None = None
        self._runner: web.AppRunner | None = None
        self._driver: asyncio.Task | None = None

    @property
    def url(self) -> str:
        """Base URL clients should use."""
        scheme = "https" if self.config.tls_cert_file else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        """Create the cluster, bind the socket, start the clock driver (wall mode)."""
        self.cluster = Cluster(self.config)
        app = create_app(self.cluster)
        # Do not wait for in-flight watches on shutdown; they are long-lived.
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=0.5)
        await self._runner.setup()
        tls = None
        if self.config.tls_cert_file:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(self.config.tls_cert_file, self.config.tls_key_file)
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True, ssl_context=tls)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        if self.config.clock == WALL:
            self._driver = asyncio.get_running_loop().create_task(self._drive())

    async def _drive(self) -> None:
        # Wall-clock mode: fire timers as real time (times speed) reaches them.
        clock = self.cluster.clock
        while True:
            try:
                clock.run_due()
            except Exception:  # keep the simulated node alive whatever a step did
                log.exception("kubelet step failed")
            due = clock.next_due()
            delay = MAX_TICK if due is None else (due - clock.now()) / clock.speed
            await asyncio.sleep(min(MAX_TICK, max(0.001, delay)))

    async def stop(self) -> None:
        """Stop serving and cancel the driver."""
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
        if self._runner is not None:
            await self._runner.cleanup()
