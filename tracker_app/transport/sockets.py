"""Tracker sockets without ASGI: websockets' sans-I/O framing, straight to the transport.

A tracker socket is mostly idle, and when busy it relays small frames to other
sockets. ASGI gives each socket a task, a receive queue, an event and its handshake
headers (about 20 KB), and each frame a message dict and an awaited send. Here a
socket is one object with slots beside a websockets ``ServerProtocol``: a frame in
calls the tracker, a frame out is queued and written with the socket's other
frames of the same loop turn in one ``write`` (corking). Nothing waits on a
receiver: a socket whose unsent bytes pass ``TRACKER_SEND_BUFFER`` is dropped.

Measured for the choice of framing library (bench/framing.py): websockets holds
1.5 KB per open connection and takes 9 us to parse and 4 us to build a 1 KB frame;
wsproto holds 4.7 KB and takes 41 and 11 us. picows is faster still, but it owns
the handshake and the transport, so it cannot take over a socket that uvicorn
has already upgraded on the port that also serves HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import weakref
from typing import Any, cast

from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from tracker_app.connections import Connection, Connections
from tracker_app.tracker import Tracker

#: Per-connection events, at debug level only; websockets logs "connection open" at info otherwise.
log = logging.getLogger("tracker_app.sockets")

#: Frames a socket may have in the tracker at once before its reads pause (flow control).
_IN_FLIGHT = 8

TOO_MANY = "too many connections from this address"

#: The kernel's send buffer per tracker socket (Linux doubles it): plenty for signalling frames of
#: about 1 KB. Left to autotuning, a socket whose peer stops reading took 2 MB before user space saw any.
KERNEL_SEND_BUFFER = 64 * 1024


class _Cork:
    """Sockets with frames queued in this loop turn; all are written once the turn ends."""

    def __init__(self) -> None:
        self._dirty: list[TrackerSocket] = []

    def add(self, sock: TrackerSocket) -> None:
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty.append(sock)

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, []
        for sock in dirty:
            sock.flush()


_cork = _Cork()
#: Connection tables whose keepalive sweep is running (one timer per replica, not one per socket).
_swept: weakref.WeakSet[Connections] = weakref.WeakSet()


class TrackerSocket(Connection, asyncio.Protocol):
    """One WebTorrent client's socket, after the HTTP upgrade."""

    __slots__ = ("_tracker", "_transport", "_ws", "_corked", "_heard", "_fragments", "_busy", "_server")

    def __init__(self, tracker: Tracker, ip: str, transport: asyncio.Transport, server: set[Any]) -> None:
        super().__init__(tracker.connections.new_id(), ip)
        self._tracker = tracker
        self._transport = transport
        self._ws: ServerProtocol | None = ServerProtocol(state=OPEN, max_size=tracker.settings.max_frame, logger=log)
        #: Bytes queued in this loop turn and not yet written; 0 when the socket is not in the cork.
        self._corked = 0
        #: Whether anything came from the peer since the last keepalive ping.
        self._heard = True
        self._fragments: list[bytes] | None = None
        self._busy = 0
        #: uvicorn's open connections: counted against its concurrency limit, shut down with the server.
        self._server = server

    @classmethod
    def upgrade(
        cls, tracker: Tracker, transport: asyncio.Transport, request: Request, ip: str, server: set[Any]
    ) -> None:
        """Answer the handshake and, when it succeeds, make the transport's protocol a tracker socket."""
        response = ServerProtocol(logger=log).accept(request)
        if response.status_code != 101:
            transport.write(response.serialize())
            transport.close()
            return
        transport.write(response.serialize())
        if tracker.connections.full(ip):
            tracker.metrics.failures.labels("too_many_connections").inc()
            closing = ServerProtocol(state=OPEN, logger=log)
            closing.send_close(1008, TOO_MANY)
            transport.write(b"".join(closing.data_to_send()))
            transport.close()
            return
        raw = transport.get_extra_info("socket")
        if raw is not None:  # a fixed kernel buffer: autotuned, a peer that does not read would hold megabytes
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        sock = cls(tracker, ip, transport, server)
        transport.set_protocol(sock)
        server.add(sock)
        tracker.connections.open(sock)
        tracker.metrics.connections.inc()
        log.debug("socket %s open from %s", sock.conn_id, ip)
        if tracker.connections not in _swept:
            _swept.add(tracker.connections)
            _keepalive(tracker.connections, tracker.settings.ping_interval)

    # Frames out

    def send(self, text: str) -> None:
        ws = self._ws
        if ws is None:
            return
        data = text.encode()
        corked = self._corked + len(data) + 4
        if corked + self._transport.get_write_buffer_size() > self._tracker.settings.send_buffer:
            self._drop_slow_reader()
            return
        try:
            ws.send_text(data)
        except InvalidState:  # the closing handshake has begun
            return
        if not self._corked:
            _cork.add(self)
        self._corked = corked

    def flush(self) -> None:
        """Write every frame queued for this socket in one system call."""
        self._corked = 0
        if self._ws is not None:
            data = self._ws.data_to_send()
            if data:
                self._transport.write(b"".join(data))

    def _drop_slow_reader(self) -> None:
        """Free what the socket holds now: its peer is not reading, so a close frame could not reach it."""
        self._tracker.metrics.failures.labels("slow_reader").inc()
        log.debug("socket %s dropped: more than %d bytes unread", self.conn_id, self._tracker.settings.send_buffer)
        self._ws = None
        self._transport.abort()

    # Frames in

    def data_received(self, data: bytes) -> None:
        ws = self._ws
        if ws is None:
            return
        self._heard = True
        ws.receive_data(data)
        control = False
        for event in ws.events_received():
            frame = cast(Frame, event)  # once open, websockets has only frames to report
            opcode = frame.opcode
            if opcode is Opcode.TEXT or opcode is Opcode.BINARY:
                if frame.fin:
                    self._dispatch(cast(bytes, frame.data))  # websockets' reader makes bytes
                else:
                    self._fragments = [cast(bytes, frame.data)]
            elif opcode is Opcode.CONT and self._fragments is not None:
                self._fragments.append(cast(bytes, frame.data))
                if frame.fin:
                    message, self._fragments = b"".join(self._fragments), None
                    self._dispatch(message)
            elif opcode is Opcode.PING or opcode is Opcode.CLOSE:
                control = True  # websockets has queued the pong or the closing reply
        if control or ws.parser_exc is not None:
            self._finish_control(ws)

    def _finish_control(self, ws: ServerProtocol) -> None:
        """Send the pong or close now; after a close or a protocol error (1009, 1002) the socket ends."""
        if not self._corked:
            self.flush()
        if ws.state is not OPEN:
            self.flush()
            self._ws = None
            self._transport.close()

    def _dispatch(self, frame: bytes) -> None:
        work = self._tracker.receive(self, frame)
        if work is None:
            return
        task = asyncio.get_running_loop().create_task(work)
        self._busy += 1
        if self._busy == _IN_FLIGHT:
            self._transport.pause_reading()
        task.add_done_callback(self._handled)

    def _handled(self, task: asyncio.Task[None]) -> None:
        self._busy -= 1
        if self._busy == _IN_FLIGHT - 1 and self._ws is not None:
            self._transport.resume_reading()

    # Keepalive and the end

    def keepalive(self) -> None:
        ws = self._ws
        if ws is None:  # closed an interval ago with bytes still unsent: its peer does not read
            self._transport.abort()
            return
        if not self._heard:
            log.debug("socket %s closed: keepalive ping timeout", self.conn_id)
            ws.fail(1011, "keepalive ping timeout")
            self._finish_control(ws)
            return
        self._heard = False
        ws.send_ping(b"")
        if not self._corked:
            _cork.add(self)
            self._corked = 1

    def shutdown(self) -> None:
        """uvicorn is stopping: tell the peer to reconnect elsewhere (1012, service restart)."""
        ws = self._ws
        if ws is not None and ws.state is OPEN:
            ws.send_close(1012)
            self._finish_control(ws)
        else:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._ws = None
        self._server.discard(self)
        tracker = self._tracker
        tracker.metrics.connections.dec()
        log.debug("socket %s closed", self.conn_id)
        asyncio.get_running_loop().create_task(tracker.on_close(self))


def _keepalive(connections: Connections, interval: float) -> None:
    """Every ``interval``: ping each socket, and close those that sent nothing since the last ping."""
    loop = asyncio.get_running_loop()

    def sweep() -> None:
        for conn in connections:
            conn.keepalive()
        loop.call_later(interval, sweep)

    loop.call_later(interval, sweep)
