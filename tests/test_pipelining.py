"""The store's own Redis pipeline (hiredis, one connection): order, lost scripts, and a Redis that hangs."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.processes import Server, start_redis
from tracker_app.peers import Event, Kind, PeerEntry, SocketId
from tracker_app.store import RedisStore
from tracker_app.store.base import StoreUnavailable
from tracker_app.store.redis import connect


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[Server]:
    """A redis-server this test may pause, flush and stop."""
    server = start_redis(tmp_path)
    yield server
    os.kill(server.proc.pid, signal.SIGCONT)
    server.stop()


def peer(n: int, seeder: bool) -> PeerEntry:
    return PeerEntry(Kind.WEBSOCKET, n.to_bytes(20, "big"), SocketId("r1", n).encode(), seeder)


async def test_announces_in_one_loop_turn_each_get_their_own_reply(own_redis: Server) -> None:
    store = RedisStore(connect(f"redis://127.0.0.1:{own_redis.port}/2"), peer_ttl=60)
    try:
        swarms = [os.urandom(20) for _ in range(40)]
        # Swarm i gets i seeders, all announced in the same loop turns, so batches mix swarms.
        await asyncio.gather(
            *(store.announce(h, peer(n, True), Event.STARTED, 0) for i, h in enumerate(swarms) for n in range(i))
        )
        results = await asyncio.gather(*(store.announce(h, peer(1000, False), Event.STARTED, 5) for h in swarms))
        assert [(r.complete, r.incomplete) for r in results] == [(i, 1) for i in range(40)]
        assert [len(r.peers) for r in results] == [min(i, 5) for i in range(40)]
    finally:
        await store.close()


async def test_a_redis_that_lost_its_scripts_is_given_them_again(own_redis: Server) -> None:
    client = connect(f"redis://127.0.0.1:{own_redis.port}/0")
    store = RedisStore(client, peer_ttl=60)
    try:
        info_hash = os.urandom(20)
        await store.announce(info_hash, peer(1, True), Event.STARTED, 0)
        await client.script_flush()
        result = await store.announce(info_hash, peer(2, False), Event.STARTED, 5)
        assert (result.complete, result.incomplete, len(result.peers)) == (1, 1, 1)
    finally:
        await store.close()


async def test_a_redis_that_stops_answering_fails_the_waiting_calls_then_serves_again(own_redis: Server) -> None:
    store = RedisStore(connect(f"redis://127.0.0.1:{own_redis.port}/0"), peer_ttl=60)
    try:
        info_hash = os.urandom(20)
        await store.announce(info_hash, peer(1, True), Event.STARTED, 0)
        os.kill(own_redis.proc.pid, signal.SIGSTOP)  # the connection stays open, nothing answers
        calls = [store.announce(info_hash, peer(n, False), Event.STARTED, 5) for n in range(2, 5)]
        failures = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=30)
        assert all(isinstance(f, StoreUnavailable) for f in failures), failures
        os.kill(own_redis.proc.pid, signal.SIGCONT)
        result = await store.announce(info_hash, peer(9, False), Event.STARTED, 5)
        assert result.complete == 1 and (1).to_bytes(20, "big") in [key for key, _ in result.peers]
    finally:
        await store.close()
