"""The tracker as ``tracker`` serves it (uvicorn with tracker_app.transport), inside the test process.

End-to-end tests start replicas as processes; these start the same app with the same
uvicorn options (``tracker_app.__main__.uvicorn_options``) on the test's own event loop,
bound to 127.0.0.1 on a port the kernel picks. So fast tests cover the lean tracker
sockets that production runs, not only the ASGI path that Starlette's ``TestClient``
reaches, and they can look at the replica's state directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
import uvicorn
from starlette.applications import Starlette

from tests.support.processes import Loopback
from tracker_app import Settings, create_app
from tracker_app.__main__ import uvicorn_options
from tracker_app.tracker import Tracker


@dataclass
class LeanTracker(Loopback):
    """A replica served in this process; the same URLs as a :class:`~tests.support.processes.Server`."""

    app: Starlette
    port: int

    @property
    def tracker(self) -> Tracker:
        tracker: Tracker = self.app.state.tracker
        return tracker


@contextlib.asynccontextmanager
async def serve_lean(settings: Settings) -> AsyncIterator[LeanTracker]:
    """Serve a replica with these settings until the block ends (its lifespan runs: supervised tasks too)."""
    app = create_app(settings)
    # log_config=None: leave the test process's logging as it is.
    config = uvicorn.Config(app, **(uvicorn_options(settings) | {"log_config": None}))
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()  # its start-up failed: raise why
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield LeanTracker(app, sock.getsockname()[1])
    finally:
        server.should_exit = True
        await serving
        sock.close()


def lean_fixture(scope: Any = "module", **env: str) -> Callable[[], AsyncIterator[LeanTracker]]:
    """A fixture serving one in-process replica configured by ``env``, as ``tracker_fixture`` does with a process."""

    @pytest_asyncio.fixture(scope=scope)
    async def serve() -> AsyncIterator[LeanTracker]:
        async with serve_lean(Settings.from_env(env)) as lean:
            yield lean

    return serve
