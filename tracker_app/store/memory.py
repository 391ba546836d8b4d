"""Swarm state in this process, for a single replica without Redis."""

from __future__ import annotations

import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from tracker_app.peers import (
    AnnounceResult,
    Event,
    InfoHash,
    Kind,
    PeerEntry,
    PeerIdTaken,
    ScrapeCounts,
    Totals,
)
from tracker_app.store.base import SwarmStore, yields


class _Members:
    """Peers of one kind: constant-time add, remove and random pick."""

    __slots__ = ("keys", "index", "values")

    def __init__(self) -> None:
        self.keys: list[bytes] = []
        self.index: dict[bytes, int] = {}
        #: key -> (value, seeder, claim)
        self.values: dict[bytes, tuple[bytes, bool, bytes]] = {}

    def put(self, key: bytes, value: bytes, seeder: bool, claim: bytes) -> None:
        if key not in self.index:
            self.index[key] = len(self.keys)
            self.keys.append(key)
        self.values[key] = (value, seeder, claim)

    def remove(self, key: bytes) -> None:
        position = self.index.pop(key)
        last = self.keys.pop()
        if last != key:
            self.keys[position] = last
            self.index[last] = position
        del self.values[key]

    def pick(self, count: int, exclude: bytes) -> list[tuple[bytes, bytes]]:
        chosen = random.sample(range(len(self.keys)), min(count + 1, len(self.keys)))
        keys = [self.keys[i] for i in chosen if self.keys[i] != exclude][:count]
        return [(key, self.values[key][0]) for key in keys]


@dataclass(slots=True)
class _Swarm:
    members: dict[Kind, _Members] = field(default_factory=lambda: {kind: _Members() for kind in Kind})
    #: (kind, key) -> last announce, oldest first, so expiry never scans live peers.
    seen: OrderedDict[tuple[Kind, bytes], float] = field(default_factory=OrderedDict)
    complete: int = 0
    incomplete: int = 0
    downloaded: int = 0

    def counts(self) -> ScrapeCounts:
        return ScrapeCounts(self.complete, self.incomplete, self.downloaded)


class MemoryStore(SwarmStore):
    def __init__(self, peer_ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(peer_ttl)
        self._swarms: dict[InfoHash, _Swarm] = {}
        self._clock = clock
        self._clients: Counter[str] = Counter()
        #: Running totals, so ``totals()`` costs the same whatever the number of swarms.
        self._torrents = self._seeders = self._leechers = 0

    async def announce(self, info_hash: InfoHash, peer: PeerEntry, event: Event, numwant: int) -> AnnounceResult:
        now = self._clock()
        swarm = self._swarms.get(info_hash)
        if swarm is None:
            swarm = self._swarms[info_hash] = _Swarm()
        self._expire(swarm, now)
        members = swarm.members[peer.kind]
        old = members.values.get(peer.key)
        if old is not None and peer.kind is Kind.WEBSOCKET and old[0] != peer.value and not yields(old[2], peer.claim):
            raise PeerIdTaken()
        if event is Event.STOPPED:
            if old is not None:
                self._forget(swarm, peer.kind, peer.key)
            return AnnounceResult(swarm.complete, swarm.incomplete, swarm.downloaded)
        was_seeder = old[1] if old is not None else None
        if was_seeder is not peer.seeder:
            if was_seeder is not None:
                self._count(swarm, was_seeder, -1)
            self._count(swarm, peer.seeder, +1)
        if event is Event.COMPLETED and was_seeder is not True:
            swarm.downloaded += 1
        claim = old[2] if old is not None and old[0] == peer.value and old[2] else peer.claim
        members.put(peer.key, peer.value, peer.seeder, claim)
        swarm.seen[(peer.kind, peer.key)] = now
        swarm.seen.move_to_end((peer.kind, peer.key))
        peers = members.pick(numwant, peer.key) if numwant > 0 else []
        return AnnounceResult(swarm.complete, swarm.incomplete, swarm.downloaded, peers)

    async def leave(self, memberships: Sequence[tuple[InfoHash, PeerEntry]]) -> None:
        for info_hash, peer in memberships:
            swarm = self._swarms.get(info_hash)
            if swarm is None:
                continue
            old = swarm.members[peer.kind].values.get(peer.key)
            if old is not None and old[0] == peer.value:
                self._forget(swarm, peer.kind, peer.key)

    async def scrape(self, info_hashes: Sequence[InfoHash] | None, limit: int) -> dict[InfoHash, ScrapeCounts]:
        now = self._clock()
        if info_hashes is None:
            info_hashes = list(self._swarms)[:limit]
        files = {}
        for info_hash in info_hashes:
            swarm = self._swarms.get(info_hash)
            if swarm is not None:
                self._expire(swarm, now)
            files[info_hash] = swarm.counts() if swarm is not None else ScrapeCounts()
        return files

    async def totals(self) -> Totals:
        return Totals(self._torrents, self._seeders, self._leechers)

    async def share_clients(self, replica: str, clients: Mapping[str, int]) -> None:
        self._clients = Counter(clients)

    async def clients(self) -> Counter[str]:
        return Counter(self._clients)

    async def sweep(self) -> None:
        now = self._clock()
        for info_hash, swarm in list(self._swarms.items()):
            self._expire(swarm, now)
            if not swarm.seen:
                del self._swarms[info_hash]

    async def ping(self) -> None:
        return None

    def _expire(self, swarm: _Swarm, now: float) -> None:
        cutoff = now - self.peer_ttl
        while swarm.seen:
            (kind, key), seen = next(iter(swarm.seen.items()))
            if seen > cutoff:
                break
            self._forget(swarm, kind, key)

    def _forget(self, swarm: _Swarm, kind: Kind, key: bytes) -> None:
        members = swarm.members[kind]
        self._count(swarm, members.values[key][1], -1)
        members.remove(key)
        del swarm.seen[(kind, key)]

    def _count(self, swarm: _Swarm, seeder: bool, delta: int) -> None:
        was_active = swarm.complete + swarm.incomplete > 0
        if seeder:
            swarm.complete += delta
            self._seeders += delta
        else:
            swarm.incomplete += delta
            self._leechers += delta
        self._torrents += (swarm.complete + swarm.incomplete > 0) - was_active
