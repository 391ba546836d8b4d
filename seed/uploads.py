"""Who the seeder's bytes went to: browsers over WebRTC, BitTorrent clients over TCP/uTP.

libtorrent 2.1 counts the bytes each connection uploaded (``peer_info.total_upload``) but
its Python binding tells a WebRTC peer from a TCP one nowhere in ``peer_info``: the
flags of both look alike (measured: ``0x3c`` for a Node webtorrent peer over WebRTC and
``0x1c`` for libtorrent over TCP). Its ``peer_connect_alert`` does name the transport at
the end of its message, ``(RTC)``, ``(TCP)`` or ``(uTP)``, so each connection's kind is
learnt from that alert, keyed by its remote endpoint, and the bytes are read by
sampling every connection (:meth:`UploadCounter.sample`, a few times a second).

A connection that closes between two samples takes its last bytes with it, so each
sample also compares the torrent's own payload total: what no open connection accounts
for went to the connections that closed (or opened and closed) since the last sample,
and is split between their kinds. The kinds then add up to libtorrent's total.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

#: The kinds, as status.json names them.
WEBRTC = "webrtc"
BITTORRENT = "bittorrent"
WEBSEED = "webseed"

Endpoint = tuple[str, int]


def kind_of(connect_message: str) -> str:
    """The kind named by a ``peer_connect_alert`` message, e.g. ``... outgoing connection to peer (RTC)``."""
    return WEBRTC if connect_message.rstrip().endswith("(RTC)") else BITTORRENT


@dataclass(frozen=True)
class Peer:
    """What one sample needs of a ``peer_info``."""

    endpoint: Endpoint
    uploaded: int


@dataclass
class _Torrent:
    by_kind: dict[str, int] = field(default_factory=lambda: {WEBRTC: 0, BITTORRENT: 0})
    #: Last sample: each open connection's total upload, and the torrent's payload total.
    seen: dict[Endpoint, int] = field(default_factory=dict)
    total: int = 0
    #: Kinds of connections opened or closed since the last sample.
    churn: set[str] = field(default_factory=set)


class UploadCounter:
    """Upload by kind per torrent (info hash), since the seeder started."""

    def __init__(self) -> None:
        self._kinds: dict[tuple[str, Endpoint], str] = {}
        self._torrents: dict[str, _Torrent] = {}

    def connected(self, info_hash: str, endpoint: Endpoint, kind: str) -> None:
        self._kinds[(info_hash, endpoint)] = kind
        self._torrent(info_hash).churn.add(kind)

    def sample(self, info_hash: str, total: int, peers: Iterable[Peer]) -> None:
        """Add what each open connection sent since the last sample; ``total`` is libtorrent's payload total."""
        torrent = self._torrent(info_hash)
        now: dict[Endpoint, int] = {}
        counted = 0
        for peer in peers:
            kind = self._kinds.get((info_hash, peer.endpoint), BITTORRENT)
            delta = peer.uploaded - torrent.seen.get(peer.endpoint, 0)
            if delta < 0:  # a new connection from the same address and port
                delta = peer.uploaded
            torrent.by_kind[kind] += delta
            counted += delta
            now[peer.endpoint] = peer.uploaded
        for gone in torrent.seen.keys() - now.keys():
            torrent.churn.add(self._kinds.pop((info_hash, gone), BITTORRENT))
        rest = total - torrent.total - counted
        if rest > 0:
            kinds = sorted(torrent.churn) or sorted({self._kinds.get((info_hash, e), BITTORRENT) for e in now})
            kinds = kinds or [BITTORRENT]
            for i, kind in enumerate(kinds):
                torrent.by_kind[kind] += rest // len(kinds) + (1 if i < rest % len(kinds) else 0)
        torrent.seen, torrent.total, torrent.churn = now, total, set()

    def active(self) -> list[str]:
        """Torrents with open connections or connections that came and went since the last
        sample: the only ones a sample can change (every connection starts with an alert)."""
        return [h for h, torrent in self._torrents.items() if torrent.seen or torrent.churn]

    def by_kind(self, info_hash: str) -> dict[str, int]:
        return dict(self._torrent(info_hash).by_kind)

    def forget(self, info_hash: str) -> None:
        self._torrents.pop(info_hash, None)
        for key in [k for k in self._kinds if k[0] == info_hash]:
            del self._kinds[key]

    def _torrent(self, info_hash: str) -> _Torrent:
        return self._torrents.setdefault(info_hash, _Torrent())
