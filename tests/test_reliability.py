"""Limits, faults and abuse: the client gets a clear answer, the replica stays healthy,
and the swarm keeps working afterwards."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.support.fixtures import Target
from tests.support.lean import LeanTracker, lean_fixture
from tests.support.processes import start_redis, start_tracker
from tests.support.wsclient import Peer, random_id, sdp, text

#: A replica with small limits, so each one is cheap to reach; in this process, as ``tracker`` serves it.
strict = lean_fixture(
    TRACKER_MAX_FRAME="4096",
    TRACKER_MAX_CONNECTIONS_PER_IP="3",
    TRACKER_MAX_ANNOUNCES="5",
    TRACKER_MAX_OFFERS="4",
    TRACKER_PING_INTERVAL="0.5",
    TRACKER_MAX_SCRAPE="3",
)


async def test_an_oversized_frame_closes_the_socket_with_1009(strict: LeanTracker) -> None:
    async with Peer(strict.ws_url) as peer:
        assert peer.ws is not None
        await peer.ws.send("x" * 5000)
        with pytest.raises(ConnectionClosed) as closed:
            await peer.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    async with Peer(strict.ws_url) as peer:
        assert (await peer.announce(random_id(), left=0))["complete"] == 1, "the replica is unharmed"


async def test_too_many_offers_get_a_failure_reason(strict: LeanTracker) -> None:
    info_hash = random_id()
    async with Peer(strict.ws_url) as peer:
        reply = await peer.announce(info_hash, offers=5)
        assert reply["failure reason"] == "too many offers: at most 4 per announce"
        assert reply["info_hash"] == text(info_hash)


async def test_too_many_hashes_in_one_scrape_get_a_failure_reason(strict: LeanTracker) -> None:
    async with Peer(strict.ws_url) as peer:
        assert "failure reason" not in await peer.scrape([random_id() for _ in range(3)])
        reply = await peer.scrape([random_id() for _ in range(4)])
        assert reply["failure reason"] == "too many info_hash values: at most 3 per scrape"
    query = "&".join("info_hash=" + "%41" * 20 for _ in range(4))
    async with httpx.AsyncClient() as client:
        body = (await client.get(f"{strict.http_url}/scrape?{query}")).content
    assert body.startswith(b"d14:failure reason"), body


async def test_too_many_connections_from_one_address_are_closed_cleanly(strict: LeanTracker) -> None:
    peers = [Peer(strict.ws_url) for _ in range(3)]
    for peer in peers:
        await peer.__aenter__()
    try:
        async with Peer(strict.ws_url) as extra:
            with pytest.raises(ConnectionClosed) as closed:
                await extra.recv()
            assert closed.value.rcvd is not None
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                1008,
                "too many connections from this address",
            )
        assert (await peers[0].announce(random_id(), left=0))["complete"] == 1
    finally:
        for peer in peers:
            await peer.close()


async def test_too_many_announces_on_one_connection_are_refused(strict: LeanTracker) -> None:
    info_hash = random_id()
    async with Peer(strict.ws_url) as peer:
        for _ in range(5):
            assert "failure reason" not in await peer.announce(info_hash, left=0)
        refused = await peer.announce(info_hash, left=0)
        assert refused["failure reason"].startswith("too many announces on this connection: at most 5")
        assert refused["info_hash"] == text(info_hash)


async def test_a_socket_that_ignores_pings_is_closed(strict: LeanTracker) -> None:
    """A dead client (no pongs) is dropped after one ping interval plus its timeout, by the replica's keepalive task."""
    reader, writer = await asyncio.open_connection("127.0.0.1", strict.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /announce HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    assert b"101" in (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0]
    assert any(task.get_name() == "keepalive" for task in asyncio.all_tasks()), "a supervised task sweeps"
    ending = await asyncio.wait_for(reader.read(), 5)  # pings, then the close frame: we answer none of them
    assert ending[-len("keepalive ping timeout") :] == b"keepalive ping timeout", ending
    writer.close()


@pytest.fixture
def redis_on_port(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    port = random.randint(30000, 39999)
    yield tmp_path, port
    os.system(f"redis-cli -p {port} shutdown nosave >/dev/null 2>&1")


async def signal_across(first: str, second: str, timeout: float = 5) -> None:
    """A seeder on one replica gets a leecher's offer from the other, and the answer comes back."""
    info_hash = random_id()
    async with Peer(first) as seeder, Peer(second) as leecher:
        assert "failure reason" not in await seeder.announce(info_hash, left=0)
        await leecher.send(leecher.announce_message(info_hash, offers=1))
        offer = await seeder.recv_until(lambda m: "offer" in m, timeout)
        await seeder.answer(offer)
        answer = await leecher.recv_until(lambda m: "answer" in m, timeout)
        assert answer["peer_id"] == text(seeder.peer_id)


async def until_signalling_works(first: str, second: str, since: float, within: float, timeout: float) -> None:
    """Try :func:`signal_across` until it works; fail once ``within`` seconds have passed since ``since``."""
    while True:
        try:
            await signal_across(first, second, timeout)
            return
        except (TimeoutError, AssertionError):
            assert time.monotonic() - since < within, f"signalling did not recover within {within:g} s"


async def test_redis_outage_fails_cleanly_and_recovers_without_restart(redis_on_port) -> None:
    workdir, port = redis_on_port
    redis = start_redis(workdir, port)
    url = f"redis://127.0.0.1:{port}/0"
    replicas = [start_tracker(redis_url=url), start_tracker(redis_url=url)]
    try:
        await signal_across(replicas[0].ws_url, replicas[1].ws_url)
        redis.stop()
        async with Peer(replicas[0].ws_url) as peer:
            reply = await peer.announce(random_id(), left=0)
            assert reply["failure reason"] == "storage unavailable, try again later"
            assert httpx.get(f"{replicas[1].http_url}/health").status_code == 503
            redis = start_redis(workdir, port)
            stopped = time.monotonic()
            reply = await peer.announce(random_id(), left=0)
            assert reply["complete"] == 1, "the same socket works again once Redis is back"
        await until_signalling_works(replicas[0].ws_url, replicas[1].ws_url, time.monotonic(), within=15, timeout=1)
        print(f"signalling recovered {time.monotonic() - stopped:.2f} s after Redis came back")
        assert all(r.proc.poll() is None for r in replicas), "replicas stayed up"
        assert httpx.get(f"{replicas[1].http_url}/health").status_code == 200
    finally:
        for replica in replicas:
            replica.stop()
        redis.stop()


async def test_a_killed_replicas_peers_leave_every_swarm(redis_url: str) -> None:
    interval = 1
    doomed, survivor = (start_tracker(redis_url=redis_url, TRACKER_INTERVAL=str(interval)) for _ in range(2))
    try:
        torrents = [random_id(), random_id()]
        async with Peer(doomed.ws_url) as orphan:
            for info_hash in torrents:
                await orphan.announce(info_hash, left=0)
            doomed.kill()
            killed = time.monotonic()
        async with Peer(survivor.ws_url) as watcher:
            while True:
                files = (await watcher.scrape(torrents))["files"]
                if all(files[text(h)]["complete"] == 0 for h in torrents):
                    break
                assert time.monotonic() - killed < 4 * interval, "peers of a dead replica outlived 4 intervals"
                await asyncio.sleep(0.1)
        print(f"dead replica's peers gone after {time.monotonic() - killed:.2f} s (interval {interval} s)")
    finally:
        survivor.stop()


async def test_allowlist_changes_apply_without_restart(tmp_path: Path) -> None:
    first, second = random_id(), random_id()
    path = tmp_path / "allow.txt"
    path.write_text(first.hex() + "\n")
    server = start_tracker(TRACKER_ALLOWLIST=str(path))
    try:
        async with Peer(server.ws_url) as peer:
            assert "failure reason" in await peer.announce(second, left=0)
            path.write_text(f"{first.hex()}\n{second.hex()}\n")
            os.utime(path, (time.time() + 5, time.time() + 5))
            await asyncio.sleep(1.2)
            assert (await peer.announce(second, left=0))["complete"] == 1
            path.write_text("garbage\n")
            os.utime(path, (time.time() + 10, time.time() + 10))
            await asyncio.sleep(1.2)
            assert (await peer.announce(second, left=0))["complete"] == 1, "a broken file keeps the last good list"
    finally:
        server.stop()


def _junk(rng: random.Random, info_hash: bytes) -> str | bytes:
    """Malformed frames of every kind a broken or hostile client sends."""
    good = {
        "action": "announce",
        "info_hash": text(info_hash),
        "peer_id": text(random_id()),
        "left": 1,
        "offers": [{"offer_id": text(random_id()), "offer": sdp("offer", "junk")}],
    }
    choice = rng.randrange(6)
    if choice == 0:
        return os.urandom(rng.randrange(1, 300))
    if choice == 1:
        return '{"action": "announce", "info_hash": ' + "[" * rng.randrange(1, 50)
    if choice == 2:
        key = rng.choice(list(good))
        return str({**good, key: rng.choice([None, 7, [], {}, "x" * 21, "é" * 20])}).replace("'", '"')
    if choice == 3:
        return '{"action": "announce", "info_hash": "' + "\\u20ac" * 20 + '"}'
    if choice == 4:
        return '{"action": "scrape", "info_hash": [' + ",".join(['"abc"'] * rng.randrange(1, 20)) + "]}"
    return json.dumps(
        {
            "action": "announce",
            "answer": {"sdp": "x"},
            "info_hash": "a" * 20,
            "peer_id": "b" * 20,
            "to_peer_id": "c" * 20,
            "offer_id": "d" * 20,
        }
    )


async def test_a_barrage_of_malformed_messages_leaves_signalling_working(ours: Target) -> None:
    sockets, per_socket = 40, 100
    rng = random.Random(7)

    async def attacker(i: int) -> int:
        replies = 0
        async with Peer(ours.ws(i)) as peer:
            assert peer.ws is not None
            frames = [_junk(rng, random_id()) for _ in range(per_socket)]
            for frame in frames:
                await peer.ws.send(frame)
            for _ in frames:
                if "failure reason" in await peer.recv(10):
                    replies += 1
        return replies

    started = time.monotonic()
    answered = sum(await asyncio.gather(*(attacker(i) for i in range(sockets))))
    print(f"{sockets * per_socket} malformed frames, {answered} failure replies in {time.monotonic() - started:.2f} s")
    assert answered == sockets * per_socket, "every malformed frame gets a failure reason"
    await signal_across(ours.ws(0), ours.ws(1))
    assert httpx.get(f"{ours.http(0)}/health").status_code == 200
