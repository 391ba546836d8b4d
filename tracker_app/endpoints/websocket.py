"""The WebTorrent tracker socket: one per client, carrying every torrent it announces."""

from __future__ import annotations

from starlette.websockets import WebSocket

from tracker_app.endpoints.addresses import client_ip
from tracker_app.tracker import Tracker


async def tracker_socket(websocket: WebSocket) -> None:
    tracker: Tracker = websocket.app.state.tracker
    ip = client_ip(websocket, tracker.settings.trust_proxy)
    await websocket.accept()
    if tracker.connections.full(ip):
        tracker.metrics.failures.labels("too_many_connections").inc()
        await websocket.close(code=1008, reason="too many connections from this address")
        return
    conn = tracker.connections.open(ip, websocket.send_text)
    tracker.metrics.connections.inc()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = message.get("text")
            await tracker.on_frame(conn, frame if frame is not None else message.get("bytes") or b"")
    finally:
        tracker.metrics.connections.dec()
        await tracker.on_close(conn)
