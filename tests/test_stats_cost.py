"""``/metrics`` and ``/stats.json`` cost a few Redis commands, whatever the number of torrents."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import redis

from tests.support.processes import start_redis, start_tracker
from tracker_app.peers import Event, Kind, PeerEntry, SocketId
from tracker_app.store import RedisStore
from tracker_app.store.redis import connect

REQUESTS = 50


async def fill(url: str, torrents: int) -> None:
    """``torrents`` swarms of one seeder each, announced through the store as a replica would."""
    store = RedisStore(connect(url), peer_ttl=300)
    try:
        for start in range(0, torrents, 2000):
            await asyncio.gather(
                *(
                    store.announce(
                        os.urandom(20),
                        PeerEntry(Kind.WEBSOCKET, os.urandom(20), SocketId("filler", n).encode(), True),
                        Event.STARTED,
                        0,
                    )
                    for n in range(start, min(start + 2000, torrents))
                )
            )
    finally:
        await store.close()


def commands_per_request(port: int, url: str) -> float:
    with redis.Redis(port=port) as client, httpx.Client() as http:
        client.config_resetstat()
        for _ in range(REQUESTS):
            assert http.get(f"{url}/metrics").status_code == 200
        stats = client.info("commandstats")
    # Heartbeats (one a second) and housekeeping add a few commands meanwhile; they are counted too.
    return sum(entry["calls"] for name, entry in stats.items() if name != "cmdstat_config") / REQUESTS


def test_metrics_cost_the_same_at_100_and_100000_torrents(tmp_path: Path) -> None:
    server = start_redis(tmp_path)
    url = f"redis://127.0.0.1:{server.port}/0"
    replica = start_tracker(redis_url=url)
    try:
        figures: dict[int, float] = {}
        filled = 0
        for torrents in (100, 100_000):
            asyncio.run(fill(url, torrents - filled))
            filled = torrents
            body = httpx.get(f"{replica.http_url}/metrics").text
            assert f"tracker_torrents {float(torrents)}" in body
            figures[torrents] = commands_per_request(server.port, replica.http_url)
        print(
            f"Redis commands per /metrics request: {figures[100]:.2f} at 100 torrents, "
            f"{figures[100_000]:.2f} at 100,000"
        )
        assert figures[100_000] < 6, "a bounded number of commands per request"
        assert figures[100_000] < figures[100] + 1, "the same cost whatever the number of torrents"
    finally:
        replica.stop()
        server.stop()
