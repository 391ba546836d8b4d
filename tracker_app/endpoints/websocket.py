"""The tracker socket over ASGI, for servers other than ours (Starlette's ``TestClient``).

Under ``tracker`` (uvicorn with :class:`tracker_app.transport.HttpProtocol`) tracker
sockets never reach ASGI: they are :class:`tracker_app.transport.TrackerSocket`.
This middleware serves the same tracker to any other ASGI server, with the same
rules: a send never waits, and a socket with more than ``TRACKER_SEND_BUFFER``
bytes unsent is closed (1008).
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from tracker_app.connections import SLOW_READER, Connection
from tracker_app.endpoints.addresses import client_ip
from tracker_app.tracker import Tracker

#: Where clients open tracker sockets: tracker URLs in the wild end in ``/`` or ``/announce``.
PATHS = frozenset({"/", "/announce"})


class TrackerSockets:
    """ASGI middleware: tracker sockets skip Starlette's router and exception middleware; other requests pass on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] in PATHS:
            await _serve(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class AsgiConnection(Connection):
    """A connection whose frames are queued and sent by one writer task at a time."""

    __slots__ = ("_send", "_queue", "_queued", "_writer", "_limit")

    def __init__(self, conn_id: int, ip: str, send: Send, limit: int) -> None:
        super().__init__(conn_id, ip)
        self._send = send
        self._queue: deque[str] = deque()
        self._queued = 0
        self._writer: asyncio.Task[None] | None = None
        self._limit = limit

    def send(self, text: str) -> None:
        if self._queued < 0:
            return
        self._queued += len(text)
        if self._queued > self._limit:
            self._queued = -1
            self._queue.clear()
            text = ""  # the writer closes the socket instead
        self._queue.append(text)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._queue:
                text = self._queue.popleft()
                if self._queued < 0:
                    await self._send({"type": "websocket.close", "code": SLOW_READER, "reason": "not reading"})
                    return
                self._queued -= len(text)
                await self._send({"type": "websocket.send", "text": text})
        except Exception:  # noqa: BLE001 - any transport failure means the peer left
            self._queued = -1
        finally:
            self._writer = None


async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
    websocket = WebSocket(scope, receive, send)
    tracker: Tracker = websocket.app.state.tracker
    ip = client_ip(websocket, tracker.settings.trust_proxy, tracker.settings.proxy_hops)
    await websocket.accept()
    if tracker.connections.full(ip):
        tracker.metrics.failures.labels("too_many_connections").inc()
        await websocket.close(code=1008, reason="too many connections from this address")
        return
    del websocket
    conn = AsgiConnection(tracker.connections.new_id(), ip, send, tracker.settings.send_buffer)
    tracker.connections.open(conn)
    tracker.metrics.connections.inc()
    try:
        while True:
            message: Message = await receive()
            if message["type"] != "websocket.receive":
                break
            frame = message.get("text")
            await tracker.on_frame(conn, frame if frame is not None else message.get("bytes") or b"")
    finally:
        tracker.metrics.connections.dec()
        await tracker.on_close(conn)
