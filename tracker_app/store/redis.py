"""Swarm state in Redis, shared by every replica.

Each swarm is four keys under one hash tag (``vs:{<hex info hash>}:…``): a sorted
set of last-seen times, a hash per peer kind, and a hash of counters. One Lua
script (``swarm.lua``) does an announce or a scrape atomically, so every
announce is one round trip whatever the swarm's size, and the keys of one swarm
always live on one Redis Cluster shard.

Deployment-wide figures cost the same whatever the number of torrents:

- ``vs:totals`` holds running totals (seeders, leechers, torrents with peers). The
  script returns how each call changed its swarm's counts, and the replica adds
  that to the totals with its next round trip (on a cluster the totals live on
  another shard than the swarm, so the script cannot write them itself). The
  totals and the index expire like the swarm keys do, only later: every sweep
  pushes their expiry out (never in, whatever TTL a replica runs with), so they
  outlive every swarm and go only when the whole deployment has been down long
  enough for every swarm key to expire.
- ``vs:torrents`` indexes the swarms that have peers, scored by their oldest
  peer's last announce, so the sweep visits exactly the swarms where a peer
  expired: peers leave the totals within a sweep period of expiring, even in a
  swarm nobody announces to any more.
- ``vs:alive`` scores each replica by its last heartbeat, and ``vs:members:{<replica>}``
  lists the swarms where each replica's sockets are peers (written when its first
  socket joins a swarm and when its last one leaves, not on every announce: one
  entry per swarm, not per peer), so the peers of a replica that died are cleared
  out within seconds, and their peer_ids can be taken over at once.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import time
from collections import Counter
from collections.abc import Awaitable, Mapping, Sequence
from importlib import resources
from typing import Any, NamedTuple, TypeVar, cast

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, NoScriptError, TimeoutError

from tracker_app.peers import (
    AnnounceResult,
    Event,
    InfoHash,
    Kind,
    PeerEntry,
    PeerIdTaken,
    ScrapeCounts,
    SocketId,
    Totals,
)
from tracker_app.store.base import StoreUnavailable, SwarmStore
from tracker_app.store.pipelining import AutoPipeline, Command

SCRIPT = resources.files("tracker_app.store").joinpath("swarm.lua").read_text()


class Op(bytes, enum.Enum):
    """What one run of the swarm script does (its ARGV[3]); bytes, so hiredis packs a member as it is."""

    STARTED = b"s"
    COMPLETED = b"c"
    STOPPED = b"x"
    UPDATE = b"u"
    #: Expire and count only.
    SCRAPE = b"q"
    #: Expire a large batch and count, for the sweep index.
    SWEEP = b"e"
    #: Remove the WebSocket peers whose value starts with ``key``: a dead replica's.
    CLEAR_OUT = b"d"


_OPS = {Event.STARTED: Op.STARTED, Event.COMPLETED: Op.COMPLETED, Event.STOPPED: Op.STOPPED, Event.UPDATE: Op.UPDATE}


class ScriptArgs(NamedTuple):
    """The swarm script's ARGV from its third on, in swarm.lua's order (the store adds the two TTLs before)."""

    op: Op
    kind: str = ""
    key: bytes = b""
    value: bytes = b""
    seeder: bytes = b"0"
    numwant: int = 0
    #: ``b"1"``: a different value under the same key means another socket owns it.
    owned: bytes = b"0"
    claim: bytes = b""
    #: A holder value the announce may replace (its replica is dead), or empty.
    holder: bytes = b""


class SwarmReply(NamedTuple):
    """What the swarm script answers: the swarm's counts, how this run changed them, peers picked."""

    complete: int
    incomplete: int
    downloaded: int
    seeders_added: int
    leechers_added: int
    #: 1 when the swarm got its first peer, -1 when it lost its last, else 0.
    became: int
    #: Its oldest peer's last announce (ms), or -1 when it is empty or the script did not look.
    oldest: int
    #: Other peers of the announcing peer's kind: ``(key, value)`` pairs.
    peers: list[tuple[bytes, bytes]]


class Taken(NamedTuple):
    """The script's answer when another socket owns the announced key: that socket's value."""

    holder: bytes


#: The scrape and the sweep name no peer.
_SCRAPE = ScriptArgs(Op.SCRAPE)
_SWEEP = ScriptArgs(Op.SWEEP)


def _reply(raw: list[Any]) -> SwarmReply | Taken:
    if raw[0] == -1:
        return Taken(raw[1])
    pairs = iter(raw[_HEADER:])
    return SwarmReply(raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], list(zip(pairs, pairs, strict=True)))


_INDEX = "vs:torrents"
_REPLICAS = "vs:replicas"
_TOTALS = "vs:totals"
_ALIVE = "vs:alive"
#: Seconds between heartbeats, and without one after which a replica is dead.
BEAT = 1.0
DEAD_AFTER = 3.0
#: Swarms visited per sweep batch, and batches per sweep.
_SWEEP_BATCH = 256
_SWEEP_BATCHES = 16
#: Reply header of the swarm script: counts, their changes, and the oldest peer (see SwarmReply).
_HEADER = 7
#: Redis connections per client: enough to keep one Redis busy, few enough for its ``maxclients``.
_POOL_SIZE = 64
T = TypeVar("T")


@functools.lru_cache(maxsize=1 << 16)  # made for every announce, mostly for the same busy swarms
def _keys(info_hash: bytes) -> tuple[str, str, str, str]:
    tag = info_hash.hex()
    return f"vs:{{{tag}}}:s", f"vs:{{{tag}}}:w", f"vs:{{{tag}}}:h", f"vs:{{{tag}}}:c"


def _members(replica: str) -> str:
    return f"vs:members:{{{replica}}}"


#: Compare-and-set of index scores: a swarm that an announce re-indexed meanwhile keeps its new score.
_REINDEX = """
for i = 1, #ARGV, 3 do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    if ARGV[i + 2] == '-1' then redis.call('ZREM', KEYS[1], ARGV[i])
    else redis.call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i]) end
  end
end
"""
#: A heartbeat on the server's clock; returns it and every replica's last beat.
_BEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
return {now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
"""


def connect(url: str, cluster: bool = False) -> aioredis.Redis | RedisCluster:
    """A client with short timeouts, so an outage fails requests instead of hanging them.

    Requests beyond ``_POOL_SIZE`` in flight wait for a free connection (up to
    the timeout) rather than fail, as redis-py's default pool would past 100. A
    command that meets a connection Redis closed (it restarted) is retried once on
    a new one, so the first requests after an outage do not fail on stale sockets.
    """
    options: dict[str, Any] = {"socket_timeout": 5, "socket_connect_timeout": 3}
    if cluster:
        return RedisCluster.from_url(url, **options)
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=_POOL_SIZE,
        timeout=5,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[ConnectionError],
        **options,
    )
    return aioredis.Redis(connection_pool=pool)


class RedisStore(SwarmStore):
    def __init__(self, client: aioredis.Redis | RedisCluster, peer_ttl: float) -> None:
        super().__init__(peer_ttl)
        self._redis = client
        self._pipeline = None if isinstance(client, RedisCluster) else AutoPipeline(client)
        self._sha = hashlib.sha1(SCRIPT.encode()).hexdigest()
        self._ttl_ms = int(peer_ttl * 1000)
        self._key_ttl_ms = 2 * self._ttl_ms
        #: The totals and the index outlive the swarm keys they count, by a margin of a few sweeps.
        self._totals_ttl_ms = 2 * self._key_ttl_ms
        #: info hash -> when this replica last made sure it is in the index.
        self._indexed: dict[bytes, float] = {}
        #: Changes to the totals and the index not yet written: they ride with the next round trip.
        self._delta = [0, 0, 0]
        self._reindex: dict[bytes, int] = {}
        self._writing: asyncio.Task[None] | None = None
        #: Replicas that beat within DEAD_AFTER, and since when this replica's own beats get through.
        self._alive: set[str] = set()
        self._beating_since: float | None = None
        self._last_beat = 0.0
        #: (replica, info hash) -> peer_ids of that replica's sockets in the swarm, as far as this replica
        #: wrote them: the replica's swarm list changes only with the first and the last.
        self._local: dict[tuple[str, bytes], set[bytes]] = {}

    async def announce(self, info_hash: InfoHash, peer: PeerEntry, event: Event, numwant: int) -> AnnounceResult:
        owned = peer.kind is Kind.WEBSOCKET
        args = ScriptArgs(
            _OPS[event],
            peer.kind.value,
            peer.key,
            peer.value,
            b"1" if peer.seeder else b"0",
            numwant,
            b"1" if owned else b"0",
            peer.claim,
        )
        extra = self._index_refresh(info_hash)
        joins = owned and event is Event.STARTED  # a socket's first announce in the swarm
        if joins:
            extra += self._join(info_hash, peer)
        elif owned and event is Event.STOPPED:
            extra += self._part([(info_hash, peer)])
        try:
            [reply], _ = await self._run([(info_hash, args)], extra)
            if isinstance(reply, Taken) and self._dead(reply.holder):
                # its replica died: take the peer_id over
                [reply], _ = await self._run([(info_hash, args._replace(holder=reply.holder))])
        except StoreUnavailable:
            if joins:
                self._part([(info_hash, peer)])  # not joined: its retry must list the swarm again
            raise
        if isinstance(reply, Taken):
            if joins:
                self._part([(info_hash, peer)])  # at worst the swarm stays listed: one idle entry
            raise PeerIdTaken()
        return AnnounceResult(reply.complete, reply.incomplete, reply.downloaded, reply.peers)

    async def leave(self, memberships: Sequence[tuple[InfoHash, PeerEntry]]) -> None:
        if memberships:
            forget = self._part(memberships)
            await self._run(
                [
                    (info_hash, ScriptArgs(Op.STOPPED, peer.kind.value, peer.key, peer.value, owned=b"1"))
                    for info_hash, peer in memberships
                ],
                forget,
            )

    async def scrape(self, info_hashes: Sequence[InfoHash] | None, limit: int) -> dict[InfoHash, ScrapeCounts]:
        if info_hashes is None:
            info_hashes = cast(list[InfoHash], await self._guard(self._redis.zrange(_INDEX, 0, limit - 1, desc=True)))
        replies, _ = await self._run([(info_hash, _SCRAPE) for info_hash in info_hashes])
        return {
            info_hash: ScrapeCounts(reply.complete, reply.incomplete, reply.downloaded)
            for info_hash, reply in zip(info_hashes, cast(list[SwarmReply], replies), strict=True)
        }

    async def totals(self) -> Totals:
        """At most five commands whatever the number of torrents: this replica's pending changes, then the totals."""
        if self._writing is not None:  # changes in flight on another connection must land first
            await asyncio.gather(self._writing, return_exceptions=True)
        _, [raw] = await self._run([], [("HMGET", _TOTALS, "c", "i", "t")])
        seeders, leechers, torrents = (max(0, int(value or 0)) for value in raw)
        return Totals(torrents, seeders, leechers)

    async def sweep(self) -> None:
        """Expire peers in swarms whose oldest peer is past the TTL, a few batches per call."""
        now = time.time() * 1000
        await self._run(
            [], [("PEXPIRE", key, self._totals_ttl_ms, when) for key in (_TOTALS, _INDEX) for when in ("NX", "GT")]
        )
        for _ in range(_SWEEP_BATCHES):
            due: list[tuple[InfoHash, float]] = await self._guard(
                self._redis.zrange(  # type: ignore[arg-type]
                    _INDEX, "-inf", now - self._ttl_ms, byscore=True, offset=0, num=_SWEEP_BATCH, withscores=True
                )
            )
            if not due:
                break
            replies, _ = await self._run([(info_hash, _SWEEP) for info_hash, _ in due])
            updates: list[Any] = []
            for (info_hash, score), reply in zip(due, cast(list[SwarmReply], replies), strict=True):
                updates += [info_hash, _score(score), reply.oldest if reply.complete + reply.incomplete > 0 else -1]
            await self._guard(self._redis.eval(_REINDEX, 1, _INDEX, *updates))
            if len(due) < _SWEEP_BATCH:
                break

    async def heartbeat(self, replica: str) -> None:
        """Beat, learn who else is alive, and clear out the memberships of replicas that died."""
        now, beats = await self._guard(self._redis.eval(_BEAT, 1, _ALIVE, replica))
        pairs = list(zip(beats[::2], beats[1::2], strict=True))
        cutoff = int(now) - DEAD_AFTER * 1000
        self._alive = {name.decode() for name, beat in pairs if float(beat) >= cutoff}
        clock = time.monotonic()
        if self._beating_since is None or clock - self._last_beat > DEAD_AFTER:
            self._beating_since = clock
        self._last_beat = clock
        if self._judges():
            for name, beat in pairs:
                if float(beat) < cutoff:
                    await self._clear_out(name.decode())

    def _judges(self) -> bool:
        """Whether this replica's view of who is alive can be trusted.

        Its own beats must have got through for ``DEAD_AFTER`` seconds, or after an
        outage it would find every other replica late and call them all dead.
        """
        clock = time.monotonic()
        return (
            self._beating_since is not None
            and clock - self._last_beat < 2 * BEAT
            and clock - self._beating_since >= DEAD_AFTER
        )

    def _dead(self, holder: bytes) -> bool:
        return self._judges() and SocketId.decode(holder).replica not in self._alive

    async def _clear_out(self, replica: str) -> None:
        """Remove a dead replica's peers from their swarms, a batch of swarms at a time; SPOP shares the work out."""
        prefix = f"{replica}:".encode()  # how its sockets' routes start
        for _ in range(_SWEEP_BATCHES):
            batch = cast(list[InfoHash], await self._guard(self._redis.spop(_members(replica), _SWEEP_BATCH)))
            if batch:
                await self._run(
                    [(info_hash, ScriptArgs(Op.CLEAR_OUT, Kind.WEBSOCKET.value, prefix)) for info_hash in batch]
                )
            if len(batch) < _SWEEP_BATCH:
                await self._guard(self._redis.zrem(_ALIVE, replica))
                return

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
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        try:
            await self._run([])  # write this replica's last changes to the totals
        except StoreUnavailable:
            pass
        if self._pipeline is not None:
            self._pipeline.close()
        await self._redis.aclose()

    def _index_refresh(self, info_hash: bytes) -> list[Command]:
        """Make sure the swarm is indexed, at most a few times per peer TTL per replica.

        The script also reports a swarm that just got its first peer, which is indexed
        with the next round trip; this only repairs an index entry lost to a crash.
        """
        now = time.time()
        if now - self._indexed.get(info_hash, 0) < self.peer_ttl / 4:
            return []
        if len(self._indexed) > 100_000:
            self._indexed.clear()
        self._indexed[info_hash] = now
        return [("ZADD", _INDEX, "NX", int(now * 1000), info_hash)]

    def _join(self, info_hash: bytes, peer: PeerEntry) -> list[Command]:
        """Note a socket joining a swarm; its replica's swarm list gets the swarm with the first such socket."""
        replica = SocketId.decode(peer.value).replica
        local = self._local.setdefault((replica, info_hash), set())
        local.add(peer.key)
        return [("SADD", _members(replica), info_hash)] if len(local) == 1 else []

    def _part(self, memberships: Sequence[tuple[InfoHash, PeerEntry]]) -> list[Command]:
        """Note sockets leaving swarms; a replica's swarm list loses a swarm with the last such socket."""
        commands: list[Command] = []
        for info_hash, peer in memberships:
            replica = SocketId.decode(peer.value).replica
            local = self._local.get((replica, info_hash))
            if local is None:
                continue
            local.discard(peer.key)
            if not local:
                del self._local[(replica, info_hash)]
                commands.append(("SREM", _members(replica), info_hash))
        return commands

    def _pending(self) -> list[Command]:
        """The totals and index changes not yet written; they are taken, so a failure must put them back."""
        commands: list[Command] = []
        seeders, leechers, torrents = self._delta
        if seeders or leechers or torrents:
            commands += [
                ("HINCRBY", _TOTALS, field, delta)
                for field, delta in (("c", seeders), ("i", leechers), ("t", torrents))
                if delta
            ]
            commands.append(("PEXPIRE", _TOTALS, self._totals_ttl_ms, "NX"))  # new totals expire too
        if self._reindex:
            commands.append(("ZADD", _INDEX, *(x for h, score in self._reindex.items() for x in (score, h))))
            commands.append(("PEXPIRE", _INDEX, self._totals_ttl_ms, "NX"))
        return commands

    async def _run(
        self, calls: Sequence[tuple[InfoHash, ScriptArgs]], extra: Sequence[Command] = ()
    ) -> tuple[list[SwarmReply | Taken], list[Any]]:
        """Run the swarm script once per call, then ``extra``, all in one round trip; their replies.

        The changes earlier calls made to the totals go first in the same round trip.
        EVALSHA is sent directly; only a server that lost its script cache (a
        restart) costs a SCRIPT LOAD and a retry.
        """
        pending = self._pending()
        if not calls and not extra and not pending:
            return [], []
        delta, reindex = self._delta, self._reindex
        self._delta, self._reindex = [0, 0, 0], {}
        commands: list[Command] = [
            *pending,
            *(
                ("EVALSHA", self._sha, 4, *_keys(info_hash), self._ttl_ms, self._key_ttl_ms, *args)
                for info_hash, args in calls
            ),
            *extra,
        ]
        try:
            for _ in range(2):
                replies = await self._send(commands)
                if not any(isinstance(reply, NoScriptError) for reply in replies):
                    break
                await self._guard(self._redis.script_load(SCRIPT))
                commands = commands[len(pending) :]  # the totals were written by the first attempt
                pending = []
            for reply in replies:
                if isinstance(reply, ConnectionError | TimeoutError | OSError):
                    raise StoreUnavailable(f"Redis does not answer: {reply}")
        except StoreUnavailable:
            self._delta = [a + b for a, b in zip(self._delta, delta, strict=True)]
            self._reindex = reindex | self._reindex
            raise
        replies = replies[len(pending) :]
        for reply in replies:
            if isinstance(reply, Exception):
                raise reply
        swarms = [_reply(raw) for raw in replies[: len(calls)]]
        for (info_hash, _), reply in zip(calls, swarms, strict=True):
            if isinstance(reply, SwarmReply):
                seeders, leechers, torrents = self._delta
                self._delta = [seeders + reply.seeders_added, leechers + reply.leechers_added, torrents + reply.became]
                if reply.became == 1:
                    self._reindex[info_hash] = reply.oldest
        if (any(self._delta) or self._reindex) and self._writing is None:
            self._writing = asyncio.create_task(self._write_pending())
        return swarms, replies[len(calls) :]

    async def _write_pending(self) -> None:
        """Write the changes to the totals right after the replies that made them, so other replicas see them.

        Changes made meanwhile by other requests ride along: under load that is one
        ``HINCRBY`` per field per loop turn, in the round trip the turn makes anyway.
        """
        while any(self._delta) or self._reindex:
            await asyncio.sleep(0)
            try:
                await self._run([])
            except StoreUnavailable:
                break  # kept for the next round trip
        self._writing = None

    async def _send(self, commands: list[Command]) -> list[Any]:
        """Pipeline the commands with those of other requests; a cluster sends each to its shard, concurrently."""
        if self._pipeline is None:
            return await asyncio.gather(*(self._redis.execute_command(*c) for c in commands), return_exceptions=True)
        return await self._guard(self._pipeline.execute(commands))


def _score(score: float) -> str:
    """An index score (whole milliseconds) as ``ZSCORE`` prints it, for the compare-and-set."""
    return str(int(score))
