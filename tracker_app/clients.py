"""Which BitTorrent clients are in the swarms, for ``/stats``.

WebSocket peers are counted from the sockets a replica holds. HTTP peers hold
no socket, so a replica remembers those it served within the peer TTL.
"""

from __future__ import annotations

import time
from collections import Counter


def client_name(peer_id: bytes) -> str:
    """The client part of a peer_id: Azureus-style ``-XXnnnn-``, else its first byte."""
    if peer_id[:1] == b"-" and peer_id[7:8] == b"-":
        return peer_id[:8].decode("latin-1")
    return peer_id[:1].decode("latin-1")


class HttpClients:
    """HTTP peers this replica announced recently, by (info hash, address), at most ``limit`` of them.

    Past the limit new peers go uncounted until old ones expire: these figures are
    for ``/stats``, and a flood of addresses must not grow the replica's memory.
    """

    def __init__(self, ttl: float, limit: int = 100_000) -> None:
        self._ttl = ttl
        self._limit = limit
        self._seen: dict[tuple[bytes, bytes], tuple[str, float]] = {}
        self._pruned = 0.0

    def seen(self, info_hash: bytes, address: bytes, peer_id: bytes) -> None:
        if len(self._seen) >= self._limit and (info_hash, address) not in self._seen:
            if time.monotonic() - self._pruned < 1:
                return
            self._pruned = time.monotonic()
            self.count()  # drops the expired ones, at most once a second under a flood
            if len(self._seen) >= self._limit:
                return
        self._seen[(info_hash, address)] = (client_name(peer_id), time.monotonic())

    def left(self, info_hash: bytes, address: bytes) -> None:
        self._seen.pop((info_hash, address), None)

    def count(self) -> Counter[str]:
        """Clients of the HTTP peers still within the TTL; older ones are forgotten."""
        cutoff = time.monotonic() - self._ttl
        for key in [key for key, (_, at) in self._seen.items() if at < cutoff]:
            del self._seen[key]
        return Counter(name for name, _ in self._seen.values())
