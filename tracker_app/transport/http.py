"""uvicorn's httptools protocol, bounded, and the door to lean tracker sockets.

Each HTTP connection gets :data:`MAX_HEAD` bytes for its request line and headers
(a larger one is refused with 414 or 431 and closed, so a 192 MB request line
costs nothing) and ``TRACKER_HEADER_TIMEOUT`` seconds to send them (idle and
half-sent connections are closed). A WebSocket upgrade on a tracker path becomes
a :class:`~tracker_app.transport.sockets.TrackerSocket`; every other request,
WebSocket or not, goes to the Starlette application as before.
"""

from __future__ import annotations

import asyncio
import http
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState
from websockets.datastructures import Headers
from websockets.http11 import Request

from tracker_app.admission import Refusal, admit
from tracker_app.config import Settings
from tracker_app.tracker import Tracker
from tracker_app.transport.sockets import Cork, TrackerSocket, handshake, refuse
from videoswarm_compat.uvicorn import open_connections, should_upgrade, stop_keepalive_timer

#: Where clients open tracker sockets: tracker URLs in the wild end in ``/`` or ``/announce``.
PATHS = frozenset({b"/", b"/announce"})

#: Request line plus headers, in bytes: 16 KiB, as Node's HTTP server allows (the reference).
MAX_HEAD = 16 * 1024


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing a request that is too large."""


class HttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        # What the app's lifespan hands to uvicorn (tracker_app.app): without them, no lean tracker sockets.
        tracker, cork = app_state.get("tracker"), app_state.get("cork")
        self._lean = (tracker, cork) if isinstance(tracker, Tracker) and isinstance(cork, Cork) else None
        self._header_timeout = (self._lean[0].settings if self._lean else Settings()).header_timeout
        self._head = 0
        self._refusal: tuple[int, str] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        stop_keepalive_timer(self)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if should_upgrade(self):
                self.handle_websocket_upgrade()
            else:
                self._refuse(400, "unsupported upgrade")
        except httptools.HttpParserError:
            self._refuse(*(self._refusal or (400, "invalid HTTP request")))

    # Parser callbacks: count the head, time it

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head = 0
        self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(url, (414, "request line too long"))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(name + value, (431, "request headers too large"))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _count(self, part: bytes, refusal: tuple[int, str]) -> None:
        self._head += len(part)
        if self._head > MAX_HEAD:
            self._refusal = refusal
            raise _Refused

    def _arm(self) -> None:
        if self._timer is None:
            self._timer = self.loop.call_later(self._header_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        self._refuse(408, "request headers not received in time")

    def _refuse(self, status: int, reason: str) -> None:
        """Answer with ``status`` and close; quietly, as this is the client's fault, not ours."""
        self._disarm()
        if self.transport.is_closing():
            return
        body = reason.encode() + b"\n"
        self.transport.write(
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        self.transport.close()

    # WebSocket upgrades

    def handle_websocket_upgrade(self) -> None:
        self._disarm()
        if self._lean is None or self.url.partition(b"?")[0] not in PATHS:
            super().handle_websocket_upgrade()  # Starlette's, through uvicorn's ASGI WebSocket protocol
            return
        tracker, cork = self._lean
        connections = open_connections(self)
        if self.limit_concurrency is not None and len(connections) >= self.limit_concurrency:
            self._refuse(503, "too many connections")
            return
        connections.discard(self)
        headers = Headers((name.decode("latin-1"), value.decode("latin-1")) for name, value in self.headers)
        response = handshake(Request(self.url.decode("latin-1"), headers))
        self.transport.write(response.serialize())
        if response.status_code != 101:
            self.transport.close()
            return
        admitted = admit(tracker, self.headers, self.client)
        if isinstance(admitted, Refusal):
            refuse(self.transport, admitted)
        else:
            TrackerSocket.open(tracker, cork, self.transport, admitted, connections)
