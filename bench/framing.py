"""WebSocket framing libraries for tracker sockets, side by side: memory per open socket, CPU per frame.

    .venv/bin/python bench/framing.py        # needs wsproto too: .venv/bin/pip install wsproto

Both are sans-I/O: the tracker's transport feeds them bytes and writes what they
produce. Measured server side, after the handshake: Python bytes held per open
connection (tracemalloc), and the time to parse one masked 1 KB client text frame
and to build one 1 KB server text frame. picows is not here: it owns its
handshake and transport, so it cannot take over a socket uvicorn has upgraded.
"""

from __future__ import annotations

import base64
import gc
import logging
import os
import time
import tracemalloc
from collections.abc import Callable

from websockets.datastructures import Headers
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

KEY = base64.b64encode(os.urandom(16)).decode()
PAYLOAD = ('{"action":"announce","sdp":"' + "a" * 1000 + '"}').encode()
CLIENT_FRAME = Frame(Opcode.TEXT, PAYLOAD).serialize(mask=True, extensions=[])
QUIET = logging.getLogger("bench.framing")


def with_websockets() -> ServerProtocol:
    request = Request(
        "/announce",
        Headers(
            {
                "Host": "x",
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Key": KEY,
                "Sec-WebSocket-Version": "13",
            }
        ),
    )
    ServerProtocol(logger=QUIET).accept(request).serialize()
    return ServerProtocol(state=OPEN, max_size=65536, logger=QUIET)


def per_connection(make: Callable[[], object], count: int = 2000) -> float:
    gc.collect()
    tracemalloc.start()
    kept = [make() for _ in range(count)]
    size = tracemalloc.get_traced_memory()[0] / count
    tracemalloc.stop()
    del kept
    return size


def per_frame(step: Callable[[], object], count: int = 50_000) -> float:
    started = time.perf_counter()
    for _ in range(count):
        step()
    return (time.perf_counter() - started) / count * 1e6


def main() -> None:
    ws = with_websockets()

    def ws_receive() -> object:
        ws.receive_data(CLIENT_FRAME)
        return ws.events_received()

    def ws_send() -> object:
        ws.send_text(PAYLOAD)
        return ws.data_to_send()

    print(
        f"websockets: {per_connection(with_websockets):.0f} B per connection, "
        f"parse {per_frame(ws_receive):.1f} us, build {per_frame(ws_send):.1f} us per 1 KB frame"
    )
    try:
        from wsproto import ConnectionType, WSConnection
        from wsproto.events import AcceptConnection, TextMessage
    except ImportError:
        print("wsproto: not installed")
        return

    def with_wsproto() -> WSConnection:
        conn = WSConnection(ConnectionType.SERVER)
        conn.receive_data(
            f"GET /announce HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        for _ in conn.events():
            conn.send(AcceptConnection())
        return conn

    wp = with_wsproto()

    def wp_receive() -> object:
        wp.receive_data(CLIENT_FRAME)
        return list(wp.events())

    print(
        f"wsproto:    {per_connection(with_wsproto):.0f} B per connection, "
        f"parse {per_frame(wp_receive):.1f} us, "
        f"build {per_frame(lambda: wp.send(TextMessage(data=PAYLOAD.decode()))):.1f} us per 1 KB frame"
    )


if __name__ == "__main__":
    main()
