"""The WebSocket connections this replica holds, by connection id.

A connection remembers which swarms it joined (so closing it leaves them all)
and which offers it was handed (so its answers can only go back to a peer that
really offered, on the socket that offered).
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from tracker_app.clients import client_name
from tracker_app.peers import Route
from tracker_app.relay.base import OfferOrigin

log = logging.getLogger("tracker_app.connections")

Send = Callable[[str], Awaitable[None]]


class Connection:
    __slots__ = ("conn_id", "ip", "joined", "claims", "_send", "_pending", "_window", "_spent")

    def __init__(self, conn_id: int, ip: str, send: Send) -> None:
        self.conn_id = conn_id
        self.ip = ip
        #: (info_hash, peer_id) pairs this socket announced and has not stopped -> when it last announced them.
        self.joined: dict[tuple[bytes, bytes], float] = {}
        #: peer_id -> when this socket first announced it (Unix ms): its claim on the peer_id.
        self.claims: dict[bytes, int] = {}
        self._send = send
        self._pending: dict[tuple[bytes, bytes], Route] | None = None
        self._window = 0.0
        self._spent = 0

    def allow(self, limit: int, interval: float) -> bool:
        """Count one request; False once ``limit`` were made in the current interval."""
        now = time.monotonic()
        if now - self._window >= interval:
            self._window, self._spent = now, 0
        self._spent += 1
        return self._spent <= limit

    async def send(self, text: str) -> None:
        """Send a frame; a socket that is already gone just misses it."""
        try:
            await self._send(text)
        except Exception as exc:  # noqa: BLE001 - any transport failure means the peer left
            log.debug("send to connection %s failed: %s", self.conn_id, exc)

    def expect_answer(self, origin: OfferOrigin, limit: int) -> None:
        """Remember an offer handed to this socket; the oldest are forgotten past ``limit``."""
        if self._pending is None:
            self._pending = {}
        elif len(self._pending) >= limit:
            del self._pending[next(iter(self._pending))]
        self._pending[(origin.peer_id, origin.offer_id)] = origin.route

    def take_offer(self, peer_id: bytes, offer_id: bytes) -> Route | None:
        """The route of the socket that made this offer, if it was handed to this socket."""
        if self._pending is None:
            return None
        return self._pending.pop((peer_id, offer_id), None)


class Connections:
    def __init__(self, max_per_ip: int) -> None:
        self._by_id: dict[int, Connection] = {}
        self._per_ip: Counter[str] = Counter()
        self._ids = itertools.count(1)
        self._max_per_ip = max_per_ip

    def full(self, ip: str) -> bool:
        """Whether ``ip`` already holds as many sockets as it may."""
        return self._per_ip[ip] >= self._max_per_ip

    def open(self, ip: str, send: Send) -> Connection:
        conn = Connection(next(self._ids), ip, send)
        self._by_id[conn.conn_id] = conn
        self._per_ip[ip] += 1
        return conn

    def close(self, conn: Connection) -> None:
        if self._by_id.pop(conn.conn_id, None) is not None:
            self._per_ip[conn.ip] -= 1
            if not self._per_ip[conn.ip]:
                del self._per_ip[conn.ip]

    def get(self, conn_id: int) -> Connection | None:
        return self._by_id.get(conn_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def prune(self, ttl: float) -> list[tuple[Connection, bytes, bytes]]:
        """Forget memberships not announced within ``ttl`` (the store expires them too); returns them."""
        cutoff = time.monotonic() - ttl
        pruned = []
        for conn in self._by_id.values():
            for membership in [m for m, seen in conn.joined.items() if seen < cutoff]:
                del conn.joined[membership]
                pruned.append((conn, *membership))
            if len(conn.claims) > len(conn.joined):
                held = {peer_id for _, peer_id in conn.joined}
                conn.claims = {peer_id: since for peer_id, since in conn.claims.items() if peer_id in held}
        return pruned

    def clients(self) -> Counter[str]:
        """Peers on this replica by client, from the peer_id prefix (``-WW0208-``, ``-LT2110-``)."""
        return Counter(client_name(peer_id) for conn in self._by_id.values() for _, peer_id in conn.joined)

