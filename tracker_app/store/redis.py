"""Swarm state in Redis, shared by every replica.

Each swarm is four keys under one hash tag (``vs:{<hex info hash>}:…``): a sorted
set of last-seen times, a hash per peer kind, and a hash of counters. One Lua
script (``swarm.lua``) does an announce or a scrape atomically, so every
announce is one round trip whatever the swarm's size, and the keys of one swarm
always live on one Redis Cluster shard. A sorted set of info hashes
(``vs:torrents``) answers full scrapes and ``/stats``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from importlib import resources
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from tracker_app.peers import AnnounceResult, Event, Kind, PeerEntry, PeerIdTaken, ScrapeCounts, Totals
from tracker_app.store.base import StoreUnavailable, SwarmStore
from tracker_app.store.pipelining import AutoPipeline

SCRIPT = resources.files("tracker_app.store").joinpath("swarm.lua").read_text()
_EVENT_CODES = {Event.STARTED: b"s", Event.COMPLETED: b"c", Event.STOPPED: b"x", Event.UPDATE: b"u"}
_SCRAPE = b"q"
_INDEX = "vs:torrents"
_REPLICAS = "vs:replicas"
#: Redis connections per client: enough to keep one Redis busy, few enough for its ``maxclients``.
_POOL_SIZE = 64
T = TypeVar("T")


def _keys(info_hash: bytes) -> list[str]:
    tag = info_hash.hex()
    return [f"vs:{{{tag}}}:s", f"vs:{{{tag}}}:w", f"vs:{{{tag}}}:h", f"vs:{{{tag}}}:c"]


def connect(url: str, cluster: bool = False) -> aioredis.Redis | RedisCluster:
    """A client with short timeouts, so an outage fails requests instead of hanging them.

    Requests beyond ``_POOL_SIZE`` in flight wait for a free connection (up to
    the timeout) rather than fail, as redis-py's default pool would past 100.
    """
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3}
    if cluster:
        return RedisCluster.from_url(url, **options)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=_POOL_SIZE, timeout=5, health_check_interval=30, **options)
    return aioredis.Redis(connection_pool=pool)


class RedisStore(SwarmStore):
    def __init__(self, client: aioredis.Redis | RedisCluster, peer_ttl: float) -> None:
        super().__init__(peer_ttl)
        self._redis = client
        self._pipeline = None if isinstance(client, RedisCluster) else AutoPipeline(client)
        self._sha = hashlib.sha1(SCRIPT.encode()).hexdigest()
        self._ttl_ms = int(peer_ttl * 1000)
        self._key_ttl_ms = 2 * self._ttl_ms
        #: info hash -> when this replica last refreshed it in the index.
        self._indexed: dict[bytes, float] = {}

    async def announce(self, info_hash: bytes, peer: PeerEntry, event: Event, numwant: int) -> AnnounceResult:
        args = [
            _EVENT_CODES[event], peer.kind.value, peer.key, peer.value,
            b"1" if peer.seeder else b"0", numwant, b"1" if peer.kind is Kind.WEBSOCKET else b"0",
        ]
        extra = self._index_refresh(info_hash)
        [reply] = await self._run([(info_hash, args)], extra)
        if reply[0] == -1:
            raise PeerIdTaken()
        pairs = reply[3:]
        return AnnounceResult(reply[0], reply[1], reply[2], list(zip(pairs[::2], pairs[1::2], strict=True)))

    async def leave(self, memberships: Sequence[tuple[bytes, PeerEntry]]) -> None:
        if memberships:
            await self._run([
                (info_hash, [_EVENT_CODES[Event.STOPPED], peer.kind.value, peer.key, peer.value, b"0", 0, b"1"])
                for info_hash, peer in memberships
            ])

    async def scrape(self, info_hashes: Sequence[bytes] | None, limit: int) -> dict[bytes, ScrapeCounts]:
        if info_hashes is None:
            info_hashes = await self._known(limit)
        replies = await self._run([(info_hash, [_SCRAPE]) for info_hash in info_hashes])
        return {info_hash: ScrapeCounts(*reply) for info_hash, reply in zip(info_hashes, replies, strict=True)}

    async def totals(self) -> Totals:
        files = await self.scrape(None, limit=1_000_000)
        active = [c for c in files.values() if c.complete or c.incomplete]
        return Totals(len(active), sum(c.complete for c in active), sum(c.incomplete for c in active))

    async def share_clients(self, replica: str, clients: Mapping[str, int]) -> None:
        report = orjson.dumps({"time": time.time(), "clients": clients})
        await self._guard(self._redis.hset(_REPLICAS, replica, report))

    async def clients(self) -> Counter[str]:
        reports = await self._guard(self._redis.hgetall(_REPLICAS))
        total: Counter[str] = Counter()
        stale = []
        for replica, raw in reports.items():
            report = orjson.loads(raw)
            if report["time"] < time.time() - self.peer_ttl:
                stale.append(replica)
            else:
                total.update(report["clients"])
        if stale:
            await self._guard(self._redis.hdel(_REPLICAS, *stale))
        return total

    async def ping(self) -> None:
        await self._guard(self._redis.ping())

    @staticmethod
    async def _guard(command: Awaitable[T]) -> T:
        """Await a Redis command; an outage becomes :class:`StoreUnavailable`."""
        try:
            return await command
        except (ConnectionError, TimeoutError, OSError) as exc:
            raise StoreUnavailable(f"Redis does not answer: {exc}") from None

    async def close(self) -> None:
        await self._redis.aclose()

    async def _known(self, limit: int) -> list[bytes]:
        """Torrents announced within the key TTL; older index entries are dropped."""
        cutoff = time.time() * 1000 - self._key_ttl_ms
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(_INDEX, "-inf", cutoff)
            pipe.zrange(_INDEX, "+inf", cutoff, desc=True, byscore=True, offset=0, num=limit)
            _, hashes = await self._guard(pipe.execute())
        return hashes

    def _index_refresh(self, info_hash: bytes) -> tuple[str, dict[bytes, float]] | None:
        """Refresh the torrent index at most a few times per peer TTL per replica."""
        now = time.time()
        if now - self._indexed.get(info_hash, 0) < self.peer_ttl / 4:
            return None
        if len(self._indexed) > 100_000:
            self._indexed.clear()
        self._indexed[info_hash] = now
        return _INDEX, {info_hash: now * 1000}

    async def _run(
        self, calls: list[tuple[bytes, list[Any]]], index: tuple[str, dict[bytes, float]] | None = None
    ) -> list[Any]:
        """Run the swarm script once per call, all in one round trip.

        EVALSHA is sent directly; only a server that lost its script cache (a
        restart) costs a SCRIPT LOAD and a retry.
        """
        commands: list[tuple[Any, ...]] = [
            ("EVALSHA", self._sha, 4, *_keys(info_hash), self._ttl_ms, self._key_ttl_ms, *args)
            for info_hash, args in calls
        ]
        if index is not None:
            name, scores = index
            commands += [("ZADD", name, score, member) for member, score in scores.items()]
        for _ in range(2):
            replies = await self._send(commands)
            if not any(isinstance(reply, NoScriptError) for reply in replies):
                break
            await self._guard(self._redis.script_load(SCRIPT))
        for reply in replies:
            if isinstance(reply, ConnectionError | TimeoutError | OSError):
                raise StoreUnavailable(f"Redis does not answer: {reply}")
            if isinstance(reply, Exception):
                raise reply
        return replies[: len(calls)]

    async def _send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Pipeline the commands with those of other requests; a cluster sends each to its shard, concurrently."""
        if self._pipeline is None:
            return await asyncio.gather(*(self._redis.execute_command(*c) for c in commands), return_exceptions=True)
        return await self._guard(self._pipeline.execute(commands))
