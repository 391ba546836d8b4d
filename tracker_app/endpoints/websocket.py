"""The tracker socket over ASGI, for servers other than ours (Starlette's ``TestClient``).

Under ``tracker`` (uvicorn with :class:`tracker_app.transport.HttpProtocol`) tracker
sockets never reach ASGI: they are :class:`tracker_app.transport.TrackerSocket`.
This middleware serves the same tracker to any other ASGI server, with the same
rules: sockets are admitted and refused by :mod:`tracker_app.admission`, a send
never waits, and a socket with more than ``TRACKER_SEND_BUFFER`` bytes unsent is
closed (1008).
"""

from __future__ import annotations

import asyncio
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from tracker_app.admission import SLOW_READER, Refusal, admit
from tracker_app.connections import Connection
from tracker_app.metrics import Metrics
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

    __slots__ = ("_send", "_queue", "_queued", "_writer", "_limit", "_metrics")

    def __init__(self, conn_id: int, ip: str, send: Send, limit: int, metrics: Metrics) -> None:
        super().__init__(conn_id, ip)
        self._send = send
        self._queue: deque[str] = deque()
        self._queued = 0
        self._writer: asyncio.Task[None] | None = None
        self._limit = limit
        self._metrics = metrics

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
                    refusal = SLOW_READER.count(self._metrics)
                    await self._send({"type": "websocket.close", "code": refusal.code, "reason": refusal.reason})
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
    await websocket.accept()
    admitted = admit(tracker, scope["headers"], scope.get("client"))
    if isinstance(admitted, Refusal):
        await websocket.close(code=admitted.code, reason=admitted.reason)
        return
    del websocket
    conn = AsgiConnection(tracker.connections.new_id(), admitted, send, tracker.settings.send_buffer, tracker.metrics)
    tracker.on_open(conn)
    try:
        while True:
            message: Message = await receive()
            if message["type"] != "websocket.receive":
                break
            frame = message.get("text")
            await tracker.on_frame(conn, frame if frame is not None else message.get("bytes") or b"")
    finally:
        await tracker.on_close(conn)
