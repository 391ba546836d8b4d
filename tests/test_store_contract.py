"""One contract, two swarm stores: in-process memory and Redis (a real redis-server).

Anything the tracker relies on a store for is stated here once and must hold
for both, so a replica behaves the same with or without ``REDIS_URL``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from tracker_app.peers import Claim, Event, Kind, PeerEntry, PeerIdTaken, SocketId
from tracker_app.store import MemoryStore, RedisStore, SwarmStore
from tracker_app.store.redis import connect

TTL = 0.5


@pytest.fixture(params=["memory", "redis", "cluster"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SwarmStore]:
    if request.param == "memory":
        swarm_store: SwarmStore = MemoryStore(peer_ttl=TTL)
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
        client = connect(url.rsplit("/", 1)[0] + "/1")  # a database of its own, emptied per test
        await client.flushdb()
        swarm_store = RedisStore(client, peer_ttl=TTL)
    else:
        node = request.getfixturevalue("redis_cluster")[0]
        cluster = connect(f"redis://127.0.0.1:{node.port}/0", cluster=True)
        await cluster.flushdb(target_nodes=cluster.PRIMARIES)
        swarm_store = RedisStore(cluster, peer_ttl=TTL)
    yield swarm_store
    await swarm_store.close()


def ws_peer(n: int, seeder: bool = False, replica: str = "r1") -> PeerEntry:
    return PeerEntry(Kind.WEBSOCKET, b"-WW0208-" + n.to_bytes(12, "big"), SocketId(replica, n).encode(), seeder)


def http_peer(n: int, seeder: bool = False) -> PeerEntry:
    return PeerEntry(Kind.HTTP, bytes([127, 0, 0, 1]) + n.to_bytes(2, "big"), b"-LT2110-" + bytes(12), seeder)


def torrent() -> bytes:
    return os.urandom(20)


async def test_counts_seeders_and_leechers(store: SwarmStore) -> None:
    info_hash = torrent()
    result = await store.announce(info_hash, ws_peer(1, seeder=True), Event.STARTED, 0)
    assert (result.complete, result.incomplete) == (1, 0)
    result = await store.announce(info_hash, ws_peer(2), Event.STARTED, 0)
    assert (result.complete, result.incomplete) == (1, 1)
    result = await store.announce(info_hash, http_peer(3), Event.STARTED, 0)
    assert (result.complete, result.incomplete) == (1, 2), "HTTP and WebSocket peers share one swarm"


async def test_reannounce_does_not_double_count(store: SwarmStore) -> None:
    info_hash = torrent()
    for event in (Event.STARTED, Event.UPDATE, Event.STARTED):
        result = await store.announce(info_hash, ws_peer(1), event, 0)
    assert (result.complete, result.incomplete) == (0, 1)


async def test_completing_moves_a_leecher_to_seeders_and_counts_a_download(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, ws_peer(1), Event.STARTED, 0)
    result = await store.announce(info_hash, ws_peer(1, seeder=True), Event.COMPLETED, 0)
    assert (result.complete, result.incomplete, result.downloaded) == (1, 0, 1)
    result = await store.announce(info_hash, ws_peer(1, seeder=True), Event.COMPLETED, 0)
    assert result.downloaded == 1, "a seeder completing again is not a new download"


async def test_stopped_peer_leaves(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, ws_peer(1), Event.STARTED, 0)
    result = await store.announce(info_hash, ws_peer(1), Event.STOPPED, 0)
    assert (result.complete, result.incomplete) == (0, 0)
    assert (await store.announce(info_hash, ws_peer(2), Event.STARTED, 5)).peers == []


async def test_picks_other_peers_of_the_same_kind_never_itself(store: SwarmStore) -> None:
    info_hash = torrent()
    for n in range(1, 6):
        await store.announce(info_hash, ws_peer(n), Event.STARTED, 0)
    await store.announce(info_hash, http_peer(9), Event.STARTED, 0)
    result = await store.announce(info_hash, ws_peer(1), Event.UPDATE, 10)
    keys = {key for key, _ in result.peers}
    assert keys == {ws_peer(n).key for n in range(2, 6)}
    assert {value for _, value in result.peers} == {ws_peer(n).value for n in range(2, 6)}
    http = await store.announce(info_hash, http_peer(10), Event.STARTED, 10)
    assert http.peers == [(http_peer(9).key, http_peer(9).value)]


async def test_picks_at_most_numwant_and_at_random(store: SwarmStore) -> None:
    info_hash = torrent()
    for n in range(1, 21):
        await store.announce(info_hash, ws_peer(n), Event.STARTED, 0)
    seen: set[bytes] = set()
    for _ in range(30):
        result = await store.announce(info_hash, ws_peer(1), Event.UPDATE, 3)
        assert len(result.peers) == 3
        assert len({key for key, _ in result.peers}) == 3
        seen |= {key for key, _ in result.peers}
    assert len(seen) > 10, "picks spread over the swarm"


async def test_a_peer_id_belongs_to_the_route_that_announced_it(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, ws_peer(1, replica="r1"), Event.STARTED, 0)
    with pytest.raises(PeerIdTaken):
        await store.announce(info_hash, ws_peer(1, replica="r2"), Event.STARTED, 0)
    with pytest.raises(PeerIdTaken):
        await store.announce(info_hash, ws_peer(1, replica="r2"), Event.STOPPED, 0)
    result = await store.announce(info_hash, ws_peer(2), Event.STARTED, 5)
    assert result.peers == [(ws_peer(1).key, ws_peer(1, replica="r1").value)]


async def test_leave_removes_only_the_closing_sockets_peers(store: SwarmStore) -> None:
    first, second = torrent(), torrent()
    await store.announce(first, ws_peer(1), Event.STARTED, 0)
    await store.announce(second, ws_peer(1, seeder=True), Event.STARTED, 0)
    await store.announce(first, ws_peer(2), Event.STARTED, 0)
    await store.leave([(first, ws_peer(1)), (second, ws_peer(1)), (first, ws_peer(2, replica="elsewhere"))])
    files = await store.scrape([first, second], limit=10)
    assert (files[first].incomplete, files[second].complete) == (1, 0)


async def test_peers_expire_when_they_stop_announcing(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, ws_peer(1), Event.STARTED, 0)
    await store.announce(info_hash, http_peer(2, seeder=True), Event.STARTED, 0)
    await asyncio.sleep(TTL + 0.3)
    files = await store.scrape([info_hash], limit=10)
    assert (files[info_hash].complete, files[info_hash].incomplete) == (0, 0)
    assert (await store.announce(info_hash, ws_peer(3), Event.STARTED, 5)).peers == []


async def test_scrape_unknown_and_all_torrents(store: SwarmStore) -> None:
    known, unknown = torrent(), torrent()
    await store.announce(known, ws_peer(1, seeder=True), Event.COMPLETED, 0)
    files = await store.scrape([known, unknown], limit=10)
    assert (files[known].complete, files[known].downloaded) == (1, 1)
    assert (files[unknown].complete, files[unknown].incomplete, files[unknown].downloaded) == (0, 0, 0)
    assert known in await store.scrape(None, limit=10_000)


async def test_totals_and_clients(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, ws_peer(1, seeder=True), Event.STARTED, 0)
    await store.announce(info_hash, ws_peer(2), Event.STARTED, 0)
    await store.announce(torrent(), http_peer(3), Event.STARTED, 0)
    totals = await store.totals()
    assert (totals.torrents, totals.seeders, totals.leechers, totals.peers) == (2, 1, 2, 3)
    await store.share_clients("replica-a", {"-WW0208-": 2})
    assert (await store.clients())["-WW0208-"] == 2


async def test_ping_answers(store: SwarmStore) -> None:
    await store.ping()


def claimed(n: int, since: int, replica: str, key: str = "") -> PeerEntry:
    """Peer ``n`` announced from a socket on ``replica`` that first used its peer_id at ``since``."""
    peer = ws_peer(n, replica=replica)
    return PeerEntry(peer.kind, peer.key, peer.value, peer.seeder, Claim(since, key).encode())


async def test_a_squatted_peer_id_goes_to_the_socket_that_used_it_first(store: SwarmStore) -> None:
    owner, squatter = claimed(1, 1000, "owner"), claimed(1, 2000, "squatter")
    elsewhere, info_hash = torrent(), torrent()
    await store.announce(elsewhere, owner, Event.STARTED, 0)
    await store.announce(info_hash, squatter, Event.STARTED, 0)
    await store.announce(info_hash, owner, Event.STARTED, 0)
    with pytest.raises(PeerIdTaken):
        await store.announce(info_hash, squatter, Event.UPDATE, 0)
    result = await store.announce(info_hash, ws_peer(2), Event.STARTED, 5)
    assert result.peers == [(owner.key, owner.value)], "offers go to the owner's socket"
    assert (result.complete, result.incomplete) == (0, 2), "the peer is counted once"


async def test_a_reconnecting_client_with_the_same_key_takes_its_peer_id_over(store: SwarmStore) -> None:
    info_hash = torrent()
    await store.announce(info_hash, claimed(1, 1000, "old", key="k1"), Event.STARTED, 0)
    with pytest.raises(PeerIdTaken):
        await store.announce(info_hash, claimed(1, 5000, "thief", key="k2"), Event.STARTED, 0)
    with pytest.raises(PeerIdTaken):
        await store.announce(info_hash, claimed(1, 5000, "thief"), Event.STARTED, 0)
    await store.announce(info_hash, claimed(1, 5000, "new", key="k1"), Event.STARTED, 0)
    result = await store.announce(info_hash, ws_peer(2), Event.STARTED, 5)
    assert result.peers == [(ws_peer(1).key, ws_peer(1, replica="new").value)]


async def test_totals_drop_as_peers_expire_even_in_a_swarm_nobody_announces_to(store: SwarmStore) -> None:
    quiet, busy = torrent(), torrent()
    await store.announce(quiet, ws_peer(1, seeder=True), Event.STARTED, 0)
    await store.announce(quiet, http_peer(2), Event.STARTED, 0)
    await store.announce(busy, ws_peer(3), Event.STARTED, 0)
    await store.sweep()
    totals = await store.totals()
    assert (totals.torrents, totals.seeders, totals.leechers) == (2, 1, 2)
    await asyncio.sleep(TTL / 2)
    await store.announce(busy, ws_peer(4), Event.STARTED, 0)
    await asyncio.sleep(TTL / 2 + 0.2)
    await store.sweep()
    totals = await store.totals()
    assert (totals.torrents, totals.seeders, totals.leechers) == (1, 0, 1), "only peer 4 is left"
    await asyncio.sleep(TTL / 2)
    await store.sweep()
    totals = await store.totals()
    assert (totals.torrents, totals.seeders, totals.leechers) == (0, 0, 0)
    assert await store.scrape(None, limit=10) == {}, "a swarm without peers leaves the index"


async def test_a_sweep_after_a_quiet_spell_keeps_the_counts_of_new_announces(store: SwarmStore) -> None:
    await store.sweep()
    await asyncio.sleep(2 * TTL + 0.3)  # longer than any swarm key lives: the store had nothing left to count
    await store.announce(torrent(), ws_peer(1, seeder=True), Event.STARTED, 0)
    await store.sweep()  # e.g. the first sweep of a replica that just started
    totals = await store.totals()
    assert (totals.torrents, totals.seeders, totals.leechers) == (1, 1, 0)
