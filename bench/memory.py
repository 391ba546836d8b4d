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
import tracemalloc
from collections.abc import Callable
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


OURS = "ours, replica + Redis"
EMBEDDED = "ours, embedded (no Redis)"


def run(peers: int, torrents: int = 100, settle: float = 3) -> dict[str, float]:
    """Bytes per idle peer: ours on Redis (replica and redis-server together), ours embedded, the reference."""
    env = {"LOG_LEVEL": "warning", "TRACKER_MAX_CONNECTIONS_PER_IP": str(peers * 2)}
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        store = start_redis(Path(tmp) / "redis")
        ours = start_tracker(redis_url=f"redis://127.0.0.1:{store.port}/0", **env)
        return {
            OURS: measure(ours, [store], peers, torrents, settle),
            EMBEDDED: measure(start_tracker(**env), [], peers, torrents, settle),
            "reference": measure(start_reference(), [], peers, torrents, settle),
        }


def breakdown(peers: int = 2000) -> dict[str, float]:
    """Python bytes per idle peer, by layer, measured in this process with tracemalloc.

    ``protocol``: websockets' frame parser and state. ``tracker state``: the socket's own
    object (slots), the swarm it joined, and its entry in the in-process store. What
    the replica's RSS holds beyond these is the transport: uvloop's transport and
    libuv handle, the socket object, and allocator slack.
    """
    from websockets.protocol import OPEN
    from websockets.server import ServerProtocol

    from tracker_app.allowlist import Allowlist
    from tracker_app.clients import HttpClients
    from tracker_app.config import Settings
    from tracker_app.connections import Connections
    from tracker_app.metrics import Metrics
    from tracker_app.peers import Event, Kind, PeerEntry, SocketId
    from tracker_app.ratelimit import AddressRate
    from tracker_app.relay import MemoryRelay
    from tracker_app.store import MemoryStore
    from tracker_app.tracker import Tracker
    from tracker_app.transport import TrackerSocket
    from tracker_app.transport.sockets import Cork

    def traced(make: Callable[[], object]) -> float:
        gc.collect()
        tracemalloc.start()
        kept = [make() for _ in range(peers)]
        gc.collect()
        size = tracemalloc.get_traced_memory()[0] / peers
        tracemalloc.stop()
        del kept
        return size

    settings = Settings()
    tracker = Tracker(
        settings,
        MemoryStore(settings.peer_ttl),
        MemoryRelay("bench"),
        Connections(settings.max_connections_per_ip),
        Allowlist(None),
        Metrics(),
        HttpClients(60),
        AddressRate(settings.max_http_announces_per_ip, settings.interval),
    )
    hashes = [random.randbytes(20) for _ in range(100)]

    def socket_with_state() -> object:
        sock = TrackerSocket(tracker, Cork(), "127.0.0.1", None, set())  # type: ignore[arg-type]
        peer_id, info_hash = random.randbytes(20), random.choice(hashes)
        sock.joined[(info_hash, peer_id)] = 0.0
        tracker.connections.open(sock)
        entry = PeerEntry(Kind.WEBSOCKET, peer_id, SocketId("bench", sock.conn_id).encode(), False)
        asyncio.run(tracker.store.announce(info_hash, entry, Event.STARTED, 0))
        return sock

    protocol = traced(lambda: ServerProtocol(state=OPEN, max_size=settings.max_frame))
    return {"protocol": protocol, "tracker state": traced(socket_with_state) - protocol}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=10_000, help="idle peers (default 10000)")
    parser.add_argument("--torrents", type=int, default=100, help="torrents they announce to (default 100)")
    args = parser.parse_args()
    for name, per_peer in run(args.peers, args.torrents).items():
        print(f"{name:26} {per_peer / 1024:6.1f} KiB per idle peer ({args.peers} peers)")
    for layer, size in breakdown().items():
        print(f"  of which {layer}: {size:.0f} bytes per peer (Python objects)")


if __name__ == "__main__":
    main()
