"""One replica holds 10,000 concurrent WebSocket peers and answers every one."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.support.processes import start_tracker
from tests.support.wsclient import Peer, random_id

PEERS = 10_000


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_ten_thousand_concurrent_peers_are_all_answered() -> None:
    server = start_tracker(TRACKER_MAX_CONNECTIONS_PER_IP=str(PEERS * 2), LOG_LEVEL="warning")
    torrents = [random_id() for _ in range(100)]
    peers = [Peer(server.ws_url) for _ in range(PEERS)]
    gate = asyncio.Semaphore(256)
    try:
        baseline = rss_kib(server.proc.pid)
        started = time.monotonic()

        async def join(i: int, peer: Peer) -> bool:
            async with gate:
                await peer.__aenter__()
                reply = await peer.announce(torrents[i % len(torrents)], left=0 if i % 10 == 0 else 100, timeout=30)
                return reply["action"] == "announce" and "complete" in reply

        answered = await asyncio.gather(*(join(i, peer) for i, peer in enumerate(peers)))
        elapsed = time.monotonic() - started
        assert sum(answered) == PEERS
        stats = httpx.get(f"{server.http_url}/stats.json", timeout=30).json()
        assert stats["replica"]["connections"] == PEERS
        assert (stats["peers"], stats["seeders"], stats["torrents"]) == (PEERS, PEERS // 10, len(torrents))
        held = rss_kib(server.proc.pid) - baseline
        print(
            f"{PEERS} peers connected and answered in {elapsed:.1f} s; "
            f"replica RSS grew {held / 1024:.0f} MiB, {held * 1024 / PEERS:.0f} bytes per peer"
        )
    finally:
        await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)
        server.stop()
