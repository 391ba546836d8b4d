"""What an announce costs Redis: memory per peer, commands and round trips per announce, Redis CPU.

    .venv/bin/python bench/redis_cost.py --peers 100000

Drives the same ``RedisStore`` (and Lua script) the replicas use, on a fresh
redis-server: fills it with WebSocket peers, then announces into swarms of
different sizes and reads ``INFO`` deltas: ``commandstats`` (commands run,
including those inside the script), ``total_reads_processed`` (request batches
read from clients: round trips) and ``used_cpu_user + used_cpu_sys``.
From Redis CPU per announce it estimates, on paper, what one Redis core and a
Redis Cluster of N shards carry.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import redis
import uvloop

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.processes import start_redis  # noqa: E402
from tracker_app.peers import Event, Kind, PeerEntry  # noqa: E402
from tracker_app.store.redis import RedisStore, connect  # noqa: E402

#: Keep one core's worth of Redis at this utilisation on paper, for bursts and housekeeping.
HEADROOM = 0.7
PEER_TTL = 300.0


def peer(i: int) -> PeerEntry:
    """A webtorrent peer as a replica stores it: its peer_id and its socket's route (replica:connection)."""
    return PeerEntry(Kind.WEBSOCKET, b"-WW0208-" + i.to_bytes(12, "big"), f"{i % 8:08x}:{i}".encode(), i % 10 == 0)


def swarm_hash(number: int) -> bytes:
    return number.to_bytes(20, "big")


async def announce_all(
    store: RedisStore, calls: list[tuple[bytes, int]], event: Event, numwant: int, parallel: int = 64
) -> None:
    """Announce peer ``i`` to ``info_hash`` for every call, ``parallel`` in flight as on a busy replica."""
    gate = asyncio.Semaphore(parallel)

    async def one(info_hash: bytes, i: int) -> None:
        async with gate:
            await store.announce(info_hash, peer(i), event, numwant)

    await asyncio.gather(*(one(info_hash, i) for info_hash, i in calls))


def stats(client: redis.Redis) -> dict[str, float]:
    info = client.info("everything")
    figures = {
        f"cmd:{name[len('cmdstat_') :]}": value["calls"] for name, value in info.items() if name.startswith("cmdstat_")
    }
    figures.update(reads=info["total_reads_processed"], cpu=info["used_cpu_user"] + info["used_cpu_sys"])
    return figures


def per_announce(
    client: redis.Redis, url: str, swarm_size: int, count: int, offers: int, parallel: int
) -> dict[str, float]:
    """Commands, round trips and Redis CPU per announce into a swarm of ``swarm_size`` peers, ``parallel`` at once
    (announces in flight together share a round trip)."""

    info_hash = swarm_hash(10**9 + swarm_size)

    async def go() -> None:
        store = RedisStore(connect(url), PEER_TTL)
        await announce_all(store, [(info_hash, i) for i in range(swarm_size)], Event.STARTED, 0)
        before.update(stats(client))
        await announce_all(store, [(info_hash, i % swarm_size) for i in range(count)], Event.UPDATE, offers, parallel)
        after.update(stats(client))
        await store.close()

    before: dict[str, float] = {}
    after: dict[str, float] = {}
    uvloop.run(go())
    commands = {name[4:]: (after[name] - before.get(name, 0)) / count for name in after if name.startswith("cmd:")}
    commands = {name: round(calls, 2) for name, calls in commands.items() if calls >= 0.01 and name != "info"}
    return {
        "swarm": swarm_size,
        "parallel": parallel,
        "commands": commands,
        "commands_total": round(sum(commands.values()), 2),
        "round_trips": round((after["reads"] - before["reads"] - 1) / count, 2),
        "cpu_us": round((after["cpu"] - before["cpu"]) / count * 1e6, 1),
    }


def run(
    peers: int,
    swarm: int = 100,
    count: int = 20_000,
    sizes: tuple[tuple[int, int], ...] = ((10, 1), (10_000, 1), (10, 32), (10_000, 32)),
) -> dict:
    """Bytes per peer with ``peers`` peers in swarms of ``swarm``; per-announce costs for each (swarm size,
    announces in flight) of ``sizes``."""
    with tempfile.TemporaryDirectory(prefix="videoswarm-bench-") as tmp:
        server = start_redis(Path(tmp) / "redis")
        url = f"redis://127.0.0.1:{server.port}/0"
        client = redis.Redis(port=server.port)
        try:
            empty = client.info("memory")["used_memory"]
            started = time.perf_counter()
            uvloop.run(_fill(url, peers, swarm))
            filled = client.info("memory")["used_memory"]
            result = {
                "peers": peers,
                "swarm": swarm,
                "fill_s": round(time.perf_counter() - started, 1),
                "bytes_per_peer": round((filled - empty) / peers),
                "announces": [],
            }
            client.flushall()
            for size, parallel in sizes:
                result["announces"].append(per_announce(client, url, size, count, 5, parallel))
            busy = [row for row in result["announces"] if row["parallel"] > 1]  # what a loaded Redis sees
            if busy:
                cpu = max(row["cpu_us"] for row in busy)
                result["one_redis_announces_per_s"] = round(HEADROOM * 1e6 / cpu, -2)
            return result
        finally:
            client.close()
            server.stop()


async def _fill(url: str, peers: int, swarm: int) -> None:
    """``peers`` peers in swarms of ``swarm`` peers each."""
    store = RedisStore(connect(url), PEER_TTL)
    await announce_all(store, [(swarm_hash(i // swarm), i) for i in range(peers)], Event.STARTED, 0)
    await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=int, default=100_000, help="peers held for the memory figure (default 100000)")
    parser.add_argument("--swarm", type=int, default=100, help="peers per torrent while filling (default 100)")
    parser.add_argument("--announces", type=int, default=20_000, help="announces per swarm size (default 20000)")
    args = parser.parse_args()
    result = run(args.peers, args.swarm, args.announces)
    print(f"{result['peers']} peers in swarms of {result['swarm']}: {result['bytes_per_peer']} bytes each in Redis")
    for row in result["announces"]:
        print(
            f"swarm of {row['swarm']:6}, {row['parallel']:2} in flight: {row['round_trips']} round trips, "
            f"{row['commands_total']} commands "
            f"({row['commands']}), {row['cpu_us']} us Redis CPU per announce"
        )
    print(f"one Redis core at {HEADROOM:.0%}: about {result['one_redis_announces_per_s']:.0f} announces/s")


if __name__ == "__main__":
    main()
