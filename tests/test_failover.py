"""A replica dies hard, or replicas share a Redis Cluster: peer_ids and signalling carry on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest
import redis

from tests.support.processes import Server, start_tracker
from tests.support.wsclient import Peer, random_id, text
from tests.test_reliability import signal_across

TAKEN = "peer_id already in use by another connection in this swarm"


@pytest.fixture(params=["redis", "cluster"])
def shared(request: pytest.FixtureRequest) -> Iterator[tuple[dict[str, str], list[int]]]:
    """Environment for replicas sharing one Redis or one Redis Cluster, and the Redis ports."""
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        yield {"redis_url": url}, [int(url.rsplit(":", 1)[1].split("/")[0])]
    else:
        nodes = request.getfixturevalue("redis_cluster")
        yield {"redis_url": f"redis://127.0.0.1:{nodes[0].port}/0", "REDIS_CLUSTER": "true"}, [n.port for n in nodes]


async def scrape_counts(url: str, info_hash: bytes) -> tuple[int, int]:
    async with Peer(url) as watcher:
        files = (await watcher.scrape([info_hash]))["files"][text(info_hash)]
        return files["complete"], files["incomplete"]


async def test_a_killed_replicas_peer_ids_are_free_again_within_seconds(
    shared: tuple[dict[str, str], list[int]],
) -> None:
    """At the default 120 s interval (peer TTL 300 s), the same peer_id is accepted on the survivor."""
    env, _ = shared
    doomed, survivor = start_tracker(**env), start_tracker(**env)
    try:
        viewing, other = random_id(), random_id()
        peer_id = random_id(b"-WW0208-")
        async with Peer(doomed.ws_url, peer_id) as orphan:
            await orphan.announce(viewing, left=0)
            await orphan.announce(other, left=0)
            async with Peer(survivor.ws_url, peer_id) as thief:
                assert (await thief.announce(viewing))["failure reason"] == TAKEN, "its owner is alive"
            await asyncio.sleep(3)  # the survivor has watched the heartbeats long enough to judge
            doomed.kill()
            killed = time.monotonic()
        async with Peer(survivor.ws_url, peer_id) as back:
            while "failure reason" in (reply := await back.announce(viewing, left=0)):
                assert reply["failure reason"] == TAKEN
                assert time.monotonic() - killed < 15, "the peer_id was not released within 15 s"
                await asyncio.sleep(0.1)
            took_over = time.monotonic() - killed
            assert reply["complete"] == 1, "the dead replica's entry was replaced, not counted twice"
        while await scrape_counts(survivor.ws_url, other) != (0, 0):
            assert time.monotonic() - killed < 15, "the dead replica's peers were not cleared out within 15 s"
            await asyncio.sleep(0.1)
        cleared = time.monotonic() - killed
        print(
            f"{env.get('REDIS_CLUSTER') and 'cluster' or 'redis'}: peer_id taken over {took_over:.2f} s after "
            f"SIGKILL, dead replica's other peers gone after {cleared:.2f} s (interval 120 s)"
        )
    finally:
        survivor.stop()
        doomed.kill()


def test_a_cluster_relays_through_sharded_channels(redis_cluster: list[Server]) -> None:
    replicas = [
        start_tracker(redis_url=f"redis://127.0.0.1:{node.port}/0", REDIS_CLUSTER="true") for node in redis_cluster[:2]
    ]
    try:
        asyncio.run(signal_across(replicas[0].ws_url, replicas[1].ws_url))
        for replica in replicas:
            channel = f"vs:relay:{{{httpx.get(f'{replica.http_url}/health').json()['replica']}}}"
            sharded = classic = 0
            for node in redis_cluster:
                with redis.Redis(port=node.port) as client:
                    sharded += client.execute_command("PUBSUB", "SHARDNUMSUB", channel)[1]
                    classic += client.execute_command("PUBSUB", "NUMSUB", channel)[1]
            assert (sharded, classic) == (1, 0), f"{channel}: one sharded subscriber, no classic one"
    finally:
        for replica in replicas:
            replica.stop()
