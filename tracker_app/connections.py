"""The WebSocket connections this replica holds, by connection id.

A connection remembers which swarms it joined (so closing it leaves them all)
and which offers it was handed (so its answers can only go back to a peer that
really offered, on the socket that offered). How its frames reach the wire is
the transport's business: a subclass implements :meth:`Connection.send`.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator

from tracker_app.clients import client_name
from tracker_app.peers import InfoHash, OfferId, PeerId, SocketId
from tracker_app.relay.base import OfferOrigin


class Connection:
    """One tracker socket's state; ``send`` never waits, so one socket cannot stall another."""

    __slots__ = ("conn_id", "ip", "joined", "claims", "_pending", "_window", "_spent")

    def __init__(self, conn_id: int, ip: str) -> None:
        self.conn_id = conn_id
        self.ip = ip
        #: (info_hash, peer_id) pairs this socket announced and has not stopped -> when it last announced them.
        self.joined: dict[tuple[InfoHash, PeerId], float] = {}
        #: peer_id -> when this socket first announced it (Unix ms): its claim on the peer_id.
        self.claims: dict[PeerId, int] = {}
        self._pending: dict[tuple[PeerId, OfferId], SocketId] | None = None
        self._window = 0.0
        self._spent = 0

    def send(self, text: str) -> None:
        """Queue a frame without waiting; a socket that is gone, or too slow to read, misses it."""
        raise NotImplementedError

    def keepalive(self) -> None:
        """Called once per ping interval: ping the peer, or drop it if the last ping went unanswered."""

    def allow(self, limit: int, interval: float) -> bool:
        """Count one request; False once ``limit`` were made in the current interval."""
        now = time.monotonic()
        if now - self._window >= interval:
            self._window, self._spent = now, 0
        self._spent += 1
        return self._spent <= limit

    def expect_answer(self, origin: OfferOrigin, limit: int) -> None:
        """Remember an offer handed to this socket; the oldest are forgotten past ``limit``."""
        if self._pending is None:
            self._pending = {}
        elif len(self._pending) >= limit:
            del self._pending[next(iter(self._pending))]
        self._pending[(origin.peer_id, origin.offer_id)] = origin.route

    def take_offer(self, peer_id: PeerId, offer_id: OfferId) -> SocketId | None:
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

    def new_id(self) -> int:
        return next(self._ids)

    def open(self, conn: Connection) -> None:
        self._by_id[conn.conn_id] = conn
        self._per_ip[conn.ip] += 1

    def close(self, conn: Connection) -> None:
        if self._by_id.pop(conn.conn_id, None) is not None:
            self._per_ip[conn.ip] -= 1
            if not self._per_ip[conn.ip]:
                del self._per_ip[conn.ip]

    def get(self, conn_id: int) -> Connection | None:
        return self._by_id.get(conn_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def prune(self, ttl: float) -> list[tuple[Connection, InfoHash, PeerId]]:
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

    def __iter__(self) -> Iterator[Connection]:
        """A snapshot: connections may close while the caller walks it."""
        return iter(list(self._by_id.values()))

    def clients(self) -> Counter[str]:
        """Peers on this replica by client, from the peer_id prefix (``-WW0208-``, ``-LT2110-``)."""
        return Counter(client_name(peer_id) for conn in self._by_id.values() for _, peer_id in conn.joined)
