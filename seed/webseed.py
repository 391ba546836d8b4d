"""An HTTP web seed (BEP 19): the seeded files over HTTP, with Range and CORS.

Browsers' webtorrent fetches byte ranges from the ``ws=`` URLs of a magnet when no
peer has the pieces, so a video plays even while its swarm is empty. For a
single-file torrent the URL names the file itself, so each file is served at
``/<file name>``. It runs in a thread of ``seed run`` (uvicorn, its own event loop) and
gets its table of files from the seeder, which refreshes it as torrents come and go;
a file whose content changed after ``seed add`` leaves the table with its torrent.
It binds 127.0.0.1 unless told otherwise: pages served over https may only fetch https
web seeds, so in production a TLS reverse proxy stands in front of it.

It shares the process's file descriptors with libtorrent, so a flood of idle
connections must not use them all up: 1,100 idle TCP connections under ``ulimit -n
1024`` made the seeder exit with "Too many open files" (issue 11). So it keeps at most
``max_connections`` (half the file limit, at most 4,096) open: when one more arrives,
the connection that has waited longest without sending a request is closed to make
room, so a flood cannot lock viewers out. A request's line and headers must arrive
within ``header_timeout`` seconds and fit in 8 KiB, and an idle keep-alive connection
is closed after ``idle_timeout`` seconds. It counts the bytes it sends per file, for the
seeder's upload by kind.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from videoswarm_compat.uvicorn import H11WithRequestHook, open_connections

from .errors import SeedError

#: A request line and headers larger than this get a 400: webtorrent's are under 1 KiB.
MAX_HEADER_BYTES = 8 * 1024
_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    """How many connections the web seed keeps, and how long each may take or idle."""

    max_connections: int
    header_timeout: float = 10.0
    idle_timeout: float = 15.0

    @classmethod
    def for_this_process(cls) -> Limits:
        """Half the soft file limit (the other half is libtorrent's), between 16 and 4,096."""
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        files = soft if soft != resource.RLIM_INFINITY else 1 << 20
        return cls(max(16, min(files // 2, 4096)))


class WebSeed:
    """Serves ``{file name: path}`` on ``host:port`` until :meth:`stop`."""

    def __init__(self, port: int, host: str = "127.0.0.1", limits: Limits | None = None) -> None:
        self._files: Mapping[str, Path] = {}
        self._sent: dict[str, int] = {}
        self._sock = _bind(host, port)
        self.limits = limits or Limits.for_this_process()
        app = Starlette(
            routes=[Route("/{name:path}", self._serve, methods=["GET", "HEAD"])],
            # Any request header: webtorrent's range requests also send User-Agent and Cache-Control,
            # and a preflight that refuses one of them fails the whole fetch.
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=["*"],
                    allow_methods=["GET", "HEAD"],
                    allow_headers=["*"],
                    expose_headers=["Content-Range", "Content-Length", "Accept-Ranges"],
                ),
                Middleware(_CountBytes, sent=self._sent),
            ],
        )
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            http=_guarded_protocol(self.limits),
            timeout_keep_alive=int(self.limits.idle_timeout),
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="webseed", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def update(self, files: Mapping[str, Path]) -> None:
        """Swap in a new table (one assignment, so requests see the old or the new one)."""
        self._files = dict(files)

    def sent(self) -> dict[str, int]:
        """Response body bytes sent so far, by file name (since this web seed started)."""
        return dict(self._sent)

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


class _CountBytes:
    """ASGI middleware adding up the body bytes of each response, by the file name it asked for."""

    def __init__(self, app: ASGIApp, sent: dict[str, int]) -> None:
        self.app = app
        self.sent = sent

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = str(scope["path"]).lstrip("/")
        ok = False

        async def counting_send(message: Message) -> None:
            nonlocal ok
            if message["type"] == "http.response.start":
                ok = message["status"] in (200, 206)
            elif message["type"] == "http.response.body" and ok and message.get("body"):
                self.sent[name] = self.sent.get(name, 0) + len(message["body"])
            await send(message)

        await self.app(scope, receive, counting_send)


class _GuardedProtocol(H11WithRequestHook):
    """uvicorn's h11 protocol with a connection cap and a deadline for each request's headers.

    uvicorn's own ``limit_concurrency`` answers 503 only once a request arrives, so idle
    connections still pile up; its keep-alive timeout starts only after a first response.
    """

    limits: Limits
    #: When this connection started waiting for a request's headers; None while one is served.
    waiting_since: float | None = None
    _header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_request()
        open_now = [
            c for c in open_connections(self) if isinstance(c, _GuardedProtocol) and not c.transport.is_closing()
        ]
        if len(open_now) > self.limits.max_connections:
            idle = [c for c in open_now if c.waiting_since is not None]  # this one at least
            oldest = min(idle, key=lambda c: c.waiting_since or 0.0)
            oldest._stop_waiting()
            oldest.transport.close()

    def data_received(self, data: bytes) -> None:
        """Refuse a request line and headers over the cap, even when they arrive in one read
        (h11's own limit only applies while they are incomplete)."""
        if self.waiting_since is not None:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._stop_waiting()
                self.transport.write(_TOO_LARGE)
                self.transport.close()
                return
        super().data_received(data)

    def on_request_headers(self) -> None:
        self._stop_waiting()

    def on_response_complete(self) -> None:
        self._await_request()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _await_request(self) -> None:
        self._stop_waiting()
        self.waiting_since = time.monotonic()
        self._header_bytes = 0
        self._header_timer = self.loop.call_later(self.limits.header_timeout, self._header_timeout)

    def _stop_waiting(self) -> None:
        self.waiting_since = None
        timer: asyncio.TimerHandle | None = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()

    def _header_timeout(self) -> None:
        if self.waiting_since is not None and not self.transport.is_closing():
            self.transport.close()


def _guarded_protocol(limits: Limits) -> type[H11WithRequestHook]:
    return type("WebSeedProtocol", (_GuardedProtocol,), {"limits": limits})


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
