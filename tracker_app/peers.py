"""The tracker's vocabulary: events, routes and what a swarm answers.

Both wire formats (WebSocket JSON and HTTP bencode) parse into these types, and
both swarm stores speak them, so neither side knows about the other.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from typing import NewType

#: A torrent's 20-byte SHA-1 info hash, as the wire carries it.
InfoHash = NewType("InfoHash", bytes)
#: A client's 20-byte peer_id.
PeerId = NewType("PeerId", bytes)
#: The 20-byte id of one WebRTC offer, which its answer names.
OfferId = NewType("OfferId", bytes)


class Event(enum.Enum):
    """What an announce says about the peer; ``empty``, ``paused`` and none are updates."""

    STARTED = "started"
    COMPLETED = "completed"
    STOPPED = "stopped"
    UPDATE = "update"


#: Every ``event`` value clients send (over HTTP and WebSocket alike) and what it means.
EVENTS = {
    "": Event.UPDATE,
    "update": Event.UPDATE,
    "empty": Event.UPDATE,
    "paused": Event.UPDATE,
    "started": Event.STARTED,
    "completed": Event.COMPLETED,
    "stopped": Event.STOPPED,
}


class Kind(enum.Enum):
    """WebRTC peers are signalled through their socket, HTTP peers are dialled by address."""

    WEBSOCKET = "w"
    HTTP = "h"


@dataclass(frozen=True, slots=True)
class SocketId:
    """Where a WebSocket peer's socket lives: which replica, which connection on it."""

    replica: str
    conn: int

    def encode(self) -> bytes:
        return f"{self.replica}:{self.conn}".encode()

    @classmethod
    @functools.lru_cache(maxsize=1 << 16)  # five per announce, mostly the same few thousand sockets
    def decode(cls, raw: bytes) -> SocketId:
        replica, _, conn = raw.decode().rpartition(":")
        return cls(replica, int(conn))


@dataclass(frozen=True, slots=True)
class PeerEntry:
    """One peer as a swarm stores it.

    ``key`` identifies the peer in its swarm (the peer_id for WebSocket peers, the
    compact address for HTTP peers); ``value`` is what other peers need to reach it
    (the encoded :class:`SocketId`, or the HTTP peer's peer_id).
    """

    kind: Kind
    key: bytes
    value: bytes
    seeder: bool
    #: A WebSocket peer's claim on its peer_id (see :class:`Claim`); HTTP peers make none.
    claim: bytes = b""


@dataclass(slots=True)
class AnnounceResult:
    complete: int
    incomplete: int
    downloaded: int
    #: Other peers of the same kind, chosen at random: ``(key, value)`` pairs.
    peers: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ScrapeCounts:
    complete: int = 0
    incomplete: int = 0
    downloaded: int = 0


@dataclass(frozen=True, slots=True)
class Totals:
    """Swarm-wide figures for ``/stats`` and ``/metrics``."""

    torrents: int
    seeders: int
    leechers: int

    @property
    def peers(self) -> int:
        return self.seeders + self.leechers


@dataclass(frozen=True, slots=True)
class Claim:
    """Why a socket may hold a peer_id that another socket holds in a swarm.

    ``since`` is when the socket first announced the peer_id (Unix ms); ``key`` a digest
    of the client's ``key``. The holder gives way to a socket that used the peer_id
    earlier (a squatter only learns a peer_id from its owner's offers, so its claim is
    newer) or that shows the same non-empty key (the same client, reconnected).
    """

    since: int
    key: str = ""

    def encode(self) -> bytes:
        return f"{self.since},{self.key}".encode()

    @classmethod
    def decode(cls, raw: bytes) -> Claim | None:
        since, comma, key = raw.decode("latin-1").partition(",")
        return cls(int(since), key) if comma and since.isdigit() else None

    def beats(self, held: Claim | None) -> bool:
        """Whether this claim takes the peer_id from a socket holding it with ``held``."""
        if held is None:
            return False
        return (self.key != "" and self.key == held.key) or self.since < held.since


class PeerIdTaken(Exception):
    """Another socket already holds this peer_id in this swarm."""
