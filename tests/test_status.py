"""Observability: /stats, /stats.json, /metrics and /health, across replicas."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote_from_bytes

import httpx
import pytest

from tests.support.fixtures import Target
from tests.support.processes import Server, start_redis, start_tracker
from tests.support.wsclient import Peer, random_id


async def test_stats_count_torrents_peers_and_clients_on_every_replica(ours: Target) -> None:
    before = httpx.get(f"{ours.http(0)}/stats.json").json()
    info_hash = random_id()
    async with Peer(ours.ws(0)) as seeder, Peer(ours.ws(1), random_id(b"-LT2110-")) as leecher:
        await seeder.announce(info_hash, left=0)
        await leecher.announce(info_hash, left=5)
        stats = [httpx.get(f"{ours.http(i)}/stats.json").json() for i in range(2)]
        for view in stats:
            assert view["torrents"] - before["torrents"] == 1
            assert (view["seeders"] - before["seeders"], view["leechers"] - before["leechers"]) == (1, 1)
        page = httpx.get(f"{ours.http(1)}/stats")
        assert page.headers["content-type"].startswith("text/html")
        assert "<th>Torrents</th>" in page.text


async def test_clients_by_peer_id_prefix(tmp_path) -> None:
    server = start_tracker(TRACKER_INTERVAL="2")  # shares client counts every second
    try:
        async with Peer(server.ws_url, random_id(b"-LT2110-")) as lt, Peer(server.ws_url) as browser:
            await lt.announce(random_id(), left=0)
            await browser.announce(random_id(), left=0)
            desktop = f"info_hash={quote_from_bytes(random_id())}&peer_id=-qB4620-{'x' * 12}&port=6881&left=0"
            assert b"failure" not in httpx.get(f"{server.http_url}/announce?{desktop}").content
            await asyncio.sleep(1.5)
            clients = httpx.get(f"{server.http_url}/stats.json").json()["clients"]
            assert clients == {"-LT2110-": 1, "-WW0208-": 1, "-qB4620-": 1}
            assert "-LT2110-" in httpx.get(f"{server.http_url}/stats").text
    finally:
        server.stop()


async def test_metrics_in_prometheus_format(ours: Target) -> None:
    async with Peer(ours.ws(0)) as peer:
        await peer.announce(random_id(), left=0)
        await peer.send("{broken")
        await peer.recv()
    body = httpx.get(f"{ours.http(0)}/metrics")
    assert body.headers["content-type"].startswith("text/plain")
    assert 'tracker_announces_total{transport="websocket"}' in body.text
    assert 'tracker_failures_total{kind="bad_request"}' in body.text
    assert "tracker_seeders " in body.text


def test_health_ok(ours: Target) -> None:
    reply = httpx.get(f"{ours.http(0)}/health")
    assert reply.status_code == 200
    assert reply.json()["status"] == "ok"
    assert reply.json()["storage"] == ours.name


@pytest.fixture
def own_redis(tmp_path) -> Iterator[Server]:
    server = start_redis(tmp_path / "redis")
    yield server
    server.stop()


async def test_health_says_503_when_redis_is_down_and_announces_fail_cleanly(own_redis: Server) -> None:
    tracker = start_tracker(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    try:
        own_redis.stop()
        reply = httpx.get(f"{tracker.http_url}/health")
        assert reply.status_code == 503
        assert reply.json()["status"] == "unavailable"
        async with Peer(tracker.ws_url) as peer:
            info_hash = random_id()
            failure = await peer.announce(info_hash, left=0)
            assert failure["failure reason"] == "storage unavailable, try again later"
            assert failure["action"] == "announce"
        assert httpx.get(f"{tracker.http_url}/stats.json").status_code == 503
        assert tracker.proc.poll() is None, "the replica stays up"
    finally:
        tracker.stop()
