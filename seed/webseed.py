"""An HTTP web seed (BEP 19): the seeded files over HTTP, with Range and CORS.

Browsers' webtorrent fetches byte ranges from the ``ws=`` URLs of a magnet when no
peer has the pieces, so a video plays even while its swarm is empty. For a
single-file torrent the URL names the file itself, so each file is served at
``/<file name>``. It runs in a thread of ``seed run`` (uvicorn, its own event loop) and
gets its table of files from the seeder, which refreshes it as torrents come and go;
a file whose content changed after ``seed add`` leaves the table with its torrent.
It binds 127.0.0.1 unless told otherwise: pages served over https may only fetch https
web seeds, so in production a TLS reverse proxy stands in front of it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Mapping
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from .errors import SeedError


class WebSeed:
    """Serves ``{file name: path}`` on ``host:port`` until :meth:`stop`."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self._files: Mapping[str, Path] = {}
        self._sock = _bind(host, port)
        app = Starlette(
            routes=[Route("/{name:path}", self._serve, methods=["GET", "HEAD"])],
            # Any request header: webtorrent's range requests also send User-Agent and Cache-Control,
            # and a preflight that refuses one of them fails the whole fetch.
            middleware=[Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD"],
                                   allow_headers=["*"],
                                   expose_headers=["Content-Range", "Content-Length", "Accept-Ranges"])],
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]},
                                        name="webseed", daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def update(self, files: Mapping[str, Path]) -> None:
        """Swap in a new table (one assignment, so requests see the old or the new one)."""
        self._files = dict(files)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 1) -> None:
        """Stop now: a browser's idle keep-alive connection must not hold up the shutdown."""
        self._server.should_exit = self._server.force_exit = True
        self._thread.join(timeout)
        self._sock.close()

    async def _serve(self, request: Request) -> Response:
        path = self._files.get(request.path_params["name"])
        if path is None or not path.is_file():
            return PlainTextResponse("not seeded here\n", status_code=404)
        return FileResponse(path)


def _bind(host: str, port: int) -> socket.socket:
    """Bind now, so a busy port is a clear error at start rather than a dead thread later."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise SeedError(f"cannot serve the web seed on {host}:{port}: {error.strerror}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
