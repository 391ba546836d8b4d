"""The WebTorrent tracker socket: one per client, carrying every torrent it announces.

Served beside Starlette's routing rather than through it: Starlette's ``WebSocket``
does the handshake, but frames go straight through ASGI ``receive``/``send``, since a
relayed offer is the hot path and per-message layers cost more than the relay itself.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from tracker_app.endpoints.addresses import client_ip
from tracker_app.tracker import Tracker

#: Where clients open tracker sockets: tracker URLs in the wild end in ``/`` or ``/announce``.
PATHS = frozenset({"/", "/announce"})


class TrackerSockets:
    """ASGI middleware: tracker sockets skip Starlette's router and exception middleware.

    Those would wrap every frame sent and keep frames and objects alive for as long as
    the socket is open, for nothing a tracker socket needs; other requests pass on.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] in PATHS:
            await _serve(scope, receive, send)
        else:
            await self.app(scope, receive, send)


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

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    conn = tracker.connections.open(ip, send_text)
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

