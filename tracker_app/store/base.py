"""The swarm-store interface that both back ends implement and one contract suite tests."""

from __future__ import annotations

import abc
from collections import Counter
from collections.abc import Mapping, Sequence

from tracker_app.peers import AnnounceResult, Claim, Event, InfoHash, PeerEntry, ScrapeCounts, Totals


def yields(held: bytes, claim: bytes) -> bool:
    """Whether a peer held with claim ``held`` goes to the socket announcing with ``claim``."""
    new = Claim.decode(claim)
    return new is not None and new.beats(Claim.decode(held))


class StoreUnavailable(Exception):
    """The shared state cannot be reached; the request fails, the replica stays up."""


class SwarmStore(abc.ABC):
    """Records announces and picks peers.

    A peer that has not announced for ``peer_ttl`` seconds is gone from its swarm.
    A WebSocket peer's entry belongs to the route that created it: another route
    announcing the same peer_id gets :class:`~tracker_app.peers.PeerIdTaken`, unless
    its :class:`~tracker_app.peers.Claim` beats the holder's, or (on Redis) the
    holder's replica is dead.
    """

    def __init__(self, peer_ttl: float) -> None:
        self.peer_ttl = peer_ttl

    @abc.abstractmethod
    async def announce(self, info_hash: InfoHash, peer: PeerEntry, event: Event, numwant: int) -> AnnounceResult:
        """Record the peer's announce and pick up to ``numwant`` other peers of its kind at random."""

    @abc.abstractmethod
    async def leave(self, memberships: Sequence[tuple[InfoHash, PeerEntry]]) -> None:
        """Remove a closed socket's peers from every swarm it joined, in one go."""

    @abc.abstractmethod
    async def scrape(self, info_hashes: Sequence[InfoHash] | None, limit: int) -> dict[InfoHash, ScrapeCounts]:
        """Counts for the given torrents, or for up to ``limit`` known torrents when ``None``."""

    @abc.abstractmethod
    async def totals(self) -> Totals:
        """Torrents, seeders and leechers across every swarm."""

    @abc.abstractmethod
    async def share_clients(self, replica: str, clients: Mapping[str, int]) -> None:
        """Publish this replica's peers by client, for every replica's ``/stats``."""

    @abc.abstractmethod
    async def clients(self) -> Counter[str]:
        """Peers by client across replicas that shared within ``peer_ttl``."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the state can be read and written."""

    async def sweep(self) -> None:
        """Expire peers that stopped announcing, so ``totals()`` counts them out; called every few seconds."""

    async def heartbeat(self, replica: str) -> None:
        """Say ``replica`` is alive, and clear out the peers of replicas that stopped saying so; every second."""

    async def close(self) -> None:
        """Release connections."""
