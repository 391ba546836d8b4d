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
from typing import Any, cast

from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN
from websockets.server import ServerProtocol

from tracker_app.admission import SLOW_READER, Refusal
from tracker_app.connections import Connection
from tracker_app.tracker import Tracker

#: Per-connection events, at debug level only; websockets logs "connection open" at info otherwise.
log = logging.getLogger("tracker_app.sockets")

#: Frames a socket may have in the tracker at once before its reads pause (flow control).
_IN_FLIGHT = 8

#: The kernel's send buffer per tracker socket (Linux doubles it): plenty for signalling frames of
#: about 1 KB. Left to autotuning, a socket whose peer stops reading took 2 MB before user space saw any.
KERNEL_SEND_BUFFER = 64 * 1024


class Cork:
    """Sockets with frames queued in this loop turn; all are written once the turn ends (one per replica)."""

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


def handshake(request: Request) -> Response:
    """websockets' answer to an upgrade request: 101, or the error to send before closing."""
    return ServerProtocol(logger=log).accept(request)


def refuse(transport: asyncio.Transport, refusal: Refusal) -> None:
    """Close a socket just upgraded with the refusal's close frame."""
    closing = ServerProtocol(state=OPEN, logger=log)
    closing.send_close(refusal.code, refusal.reason)
    transport.write(b"".join(closing.data_to_send()))
    transport.close()


class TrackerSocket(Connection, asyncio.Protocol):
    """One WebTorrent client's socket, after the HTTP upgrade."""

    __slots__ = ("_tracker", "_cork", "_transport", "_ws", "_corked", "_heard", "_fragments", "_busy", "_server")

    def __init__(self, tracker: Tracker, cork: Cork, ip: str, transport: asyncio.Transport, server: set[Any]) -> None:
        super().__init__(tracker.connections.new_id(), ip)
        self._tracker = tracker
        self._cork = cork
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
    def open(cls, tracker: Tracker, cork: Cork, transport: asyncio.Transport, ip: str, server: set[Any]) -> None:
        """Make the transport of an admitted, upgraded socket a tracker socket."""
        raw = transport.get_extra_info("socket")
        if raw is not None:  # a fixed kernel buffer: autotuned, a peer that does not read would hold megabytes
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)
        sock = cls(tracker, cork, ip, transport, server)
        transport.set_protocol(sock)
        server.add(sock)
        tracker.on_open(sock)
        log.debug("socket %s open from %s", sock.conn_id, ip)

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
            self._cork.add(self)
        self._corked = corked

    def flush(self) -> None:
        """Write every frame queued for this socket in one system call."""
        self._corked = 0
        if self._ws is not None:
            data = self._ws.data_to_send()
            if data:
                self._transport.write(b"".join(data))

    def _drop_slow_reader(self) -> None:
        """Close with 1008, as the ASGI path does: the frames not yet written are dropped, the close frame follows
        what the kernel holds. A peer that reads on learns why; one that never does is aborted by the next
        keepalive sweep, so the socket holds at most ``TRACKER_SEND_BUFFER`` until then."""
        refusal = SLOW_READER.count(self._tracker.metrics)
        log.debug("socket %s dropped: more than %d bytes unread", self.conn_id, self._tracker.settings.send_buffer)
        ws, self._ws = self._ws, None
        if ws is not None and ws.state is OPEN:
            ws.data_to_send()
            ws.send_close(refusal.code, refusal.reason)
            self._transport.write(b"".join(ws.data_to_send()))
        self._transport.close()

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
            self._cork.add(self)
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
        log.debug("socket %s closed", self.conn_id)
        asyncio.get_running_loop().create_task(self._tracker.on_close(self))
