"""Memory per idle WebSocket peer: 10,000 connected peers, ours (a replica plus Redis) against the reference.

    .venv/bin/python bench/memory.py --peers 10000

Each peer opens a socket (offering permessage-deflate, as Chrome does), announces
once to one of 100 torrents, and then stays idle. The figure is the growth of the
resident memory of every server process (tracker workers and redis-server, or
node) divided by the number of peers, after a pause for the servers to settle.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import tempfile
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.loadgen import Stats, connect  # noqa: E402
from bench.measure import rss_bytes, tree  # noqa: E402
from tests.support.processes import Server, start_redis, start_reference, start_tracker  # noqa: E402


async def hold(url: str, pids: list[int], peers: int, torrents: int, settle: float) -> int:
    """Connect and announce ``peers`` peers; the servers' RSS growth in bytes while they are connected."""
    await asyncio.sleep(settle)
    baseline = rss_bytes(pids)
    clients = await connect(url, peers, Stats())
    rng = random.Random(7)
    hashes = [rng.randbytes(20).decode("latin-1") for _ in range(torrents)]
    gate = asyncio.Semaphore(200)

    async def announce(i: int) -> bool:
        async with gate:
            reply = await clients[i].announce(hashes[i % torrents], offers=0, timeout=60)
            return "failure reason" not in reply

    answered = sum(await asyncio.gather(*(announce(i) for i in range(peers))))
    if answered != peers:
        raise RuntimeError(f"only {answered} of {peers} announces were answered")
    await asyncio.sleep(settle)
    held = rss_bytes(pids) - baseline
    for client in clients:
        if client.transport is not None:
            client.transport.disconnect()
    return held


def measure(server: Server, extra: list[Server], peers: int, torrents: int, settle: float) -> float:
    """Bytes per idle peer on ``server`` and its helper processes."""
    try:
        pids = tree(server.proc.pid) + [s.proc.pid for s in extra]
        held = uvloop.run(hold(server.ws_url, pids, peers, torrents, settle))
        gc.collect()
        return held / peers
    finally:
        server.stop()
        for helper in extra:
            helper.stop()


def run(peers: int, torrents: int = 100, settle: float = 3) -> dict[str, float]:
    """Bytes per idle peer: ours on Redis (replica and redis-server together) and the reference."""
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        store = start_redis(Path(tmp) / "redis")
        ours = start_tracker(redis_url=f"redis://127.0.0.1:{store.port}/0", LOG_LEVEL="warning",
                             TRACKER_MAX_CONNECTIONS_PER_IP=str(peers * 2))
        return {
            "ours, replica + Redis": measure(ours, [store], peers, torrents, settle),
            "reference": measure(start_reference(), [], peers, torrents, settle),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=10_000, help="idle peers (default 10000)")
    parser.add_argument("--torrents", type=int, default=100, help="torrents they announce to (default 100)")
    args = parser.parse_args()
    for name, per_peer in run(args.peers, args.torrents).items():
        print(f"{name:24} {per_peer / 1024:6.1f} KiB per idle peer ({args.peers} peers)")


if __name__ == "__main__":
    main()
