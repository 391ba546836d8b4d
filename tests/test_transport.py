"""What the tracker's connections withstand: a peer that stops reading, oversized and
half-sent HTTP requests, and a log that stays quiet per connection (issues 10 and 11).

One replica runs in this process (tests/support/lean.py: the uvicorn and transport that
``tracker`` runs); replicas sharing Redis and the log of a real ``tracker`` process are
end to end.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import OPEN
from websockets.uri import parse_uri

from tests.support.lean import LeanTracker, lean_fixture, serve_lean
from tests.support.processes import ROOT, Server, free_port, start_tracker
from tests.support.wsclient import Peer, random_id, text
from tracker_app import Settings

#: Small enough that a few dozen relayed offers overflow it; big offers reach it sooner.
SEND_BUFFER = 64 * 1024
BIG_SDP = "a=candidate:" + "x" * 8000


class StalledPeer:
    """A raw client socket with a tiny receive buffer that announces once and never reads again."""

    def __init__(self, port: int, path: str = "/announce") -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def announce(self, info_hash: bytes) -> None:
        message = json.dumps(
            {
                "action": "announce",
                "info_hash": text(info_hash),
                "peer_id": text(random_id()),
                "left": 0,
                "event": "started",
                "numwant": 0,
            }
        )
        self.sock.sendall(Frame(Opcode.TEXT, message.encode()).serialize(mask=True, extensions=[]))

    def dropped(self) -> Close | None:
        """Read on until the tracker ends the stream: the close frame it sent last, if any.

        Fails if the stream does not end (we were not dropped) or ends with a reset (no close frame).
        """
        self.sock.settimeout(5)
        protocol = ClientProtocol(parse_uri("ws://127.0.0.1/"), state=OPEN)
        while data := self.sock.recv(1 << 16):
            protocol.receive_data(data)
            protocol.events_received()  # relayed offers, then the close frame
        return protocol.close_rcvd


#: How the tracker ends a socket whose peer stopped reading (TRACKER_SEND_BUFFER in docs/configuration.md).
SLOW_READER_CLOSE = Close(1008, "not reading what it is sent")


async def slow_readers_dropped(server: Server | LeanTracker) -> float:
    async with httpx.AsyncClient() as client:
        metrics = (await client.get(f"{server.http_url}/metrics")).text
    match = re.search(r'tracker_failures_total\{kind="slow_reader"\} ([\d.]+)', metrics)
    return float(match.group(1)) if match else 0.0


async def keep_signalling(seeder_url: str, leecher_url: str, swarm: bytes, rounds: int) -> int:
    """Honest peers announce with big offers, answer them and scrape; every reply must come."""
    answered = 0
    async with Peer(seeder_url) as seeder, Peer(leecher_url) as leecher:
        await seeder.announce(swarm, left=0)
        for _ in range(rounds):
            message = leecher.announce_message(swarm, event=None, offers=5)
            for offer in message["offers"]:
                offer["offer"]["sdp"] += BIG_SDP
            await leecher.send(message)
            reply = await leecher.recv_until(lambda m: "offer" not in m and "answer" not in m)
            assert "failure reason" not in reply, reply
            offer = await seeder.recv_until(lambda m: "offer" in m)
            await seeder.answer(offer)
            await leecher.recv_until(lambda m: "answer" in m)
            assert "failure reason" not in await leecher.scrape(swarm)
            assert "failure reason" not in await seeder.scrape([swarm, random_id()])
            answered += 1
    return answered


async def test_a_peer_that_stops_reading_is_dropped_and_stalls_nobody() -> None:
    settings = Settings(send_buffer=SEND_BUFFER, max_announces=100_000, log_level="warning")
    async with serve_lean(settings) as server:
        swarm = random_id()
        stalled = await asyncio.to_thread(StalledPeer, server.port)
        stalled.announce(swarm)
        await asyncio.sleep(0.2)
        rounds = 0
        while not await slow_readers_dropped(server):
            rounds += await keep_signalling(server.ws_url, server.ws_url, swarm, rounds=20)
            assert rounds < 1000, "the stalled socket was never dropped"
        print(f"stalled socket dropped after {rounds} rounds, about {rounds * len(BIG_SDP) // 1024} KiB relayed to it")
        assert await slow_readers_dropped(server) == 1
        assert await asyncio.to_thread(stalled.dropped) == SLOW_READER_CLOSE, "closed with 1008, as documented"
        deadline = time.monotonic() + 5
        while len(server.tracker.connections):
            assert time.monotonic() < deadline, "the dropped socket is forgotten"
            await asyncio.sleep(0.1)
        assert await keep_signalling(server.ws_url, server.ws_url, swarm, rounds=3) == 3


async def test_a_stalled_peer_on_one_replica_stalls_no_swarm_on_redis(redis_url: str) -> None:
    """Offers reach the stalled socket's replica through Redis; that replica keeps signalling in every swarm."""
    env = {"TRACKER_SEND_BUFFER": str(SEND_BUFFER), "TRACKER_MAX_ANNOUNCES": "100000", "LOG_LEVEL": "warning"}
    stalled_home, other = start_tracker(redis_url=redis_url, **env), start_tracker(redis_url=redis_url, **env)
    try:
        swarm = random_id()
        stalled = StalledPeer(stalled_home.port, "/")
        stalled.announce(swarm)
        await asyncio.sleep(0.2)
        rounds = 0
        while not await slow_readers_dropped(stalled_home):
            done = await asyncio.gather(
                keep_signalling(stalled_home.ws_url, other.ws_url, swarm, rounds=20),
                keep_signalling(stalled_home.ws_url, other.ws_url, random_id(), rounds=10),
                keep_signalling(other.ws_url, stalled_home.ws_url, random_id(), rounds=10),
            )
            assert done == [20, 10, 10]
            rounds += 20
            assert rounds < 1000, "the stalled socket was never dropped"
        assert await slow_readers_dropped(stalled_home) == 1
        assert stalled.dropped() == SLOW_READER_CLOSE
        assert await keep_signalling(other.ws_url, stalled_home.ws_url, swarm, rounds=3) == 3
    finally:
        stalled_home.stop()
        other.stop()


bounded = lean_fixture(TRACKER_HEADER_TIMEOUT="1", LOG_LEVEL="warning")


def exchange(port: int, chunks: Iterator[bytes]) -> bytes:
    """Send chunks until the server stops taking them; everything it answered before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
        return answer


async def healthy(server: LeanTracker) -> bool:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{server.http_url}/health")).status_code == 200


async def test_a_huge_request_line_is_refused_and_costs_nothing(bounded: LeanTracker) -> None:
    def request_line() -> Iterator[bytes]:
        yield b"GET /announce?info_hash="
        for _ in range(3000):  # up to 192 MB, far past what the tracker reads
            yield b"A" * 65536

    answer = await asyncio.to_thread(exchange, bounded.port, request_line())
    assert answer.startswith(b"HTTP/1.1 414 "), answer[:100]
    assert await healthy(bounded)


async def test_huge_headers_are_refused(bounded: LeanTracker) -> None:
    headers = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(40))
    request = b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n"
    answer = await asyncio.to_thread(exchange, bounded.port, iter([request]))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert await healthy(bounded)


async def test_half_sent_and_idle_connections_are_closed_by_the_header_timeout(bounded: LeanTracker) -> None:
    answer = await asyncio.to_thread(exchange, bounded.port, iter([b"GET /health HTTP/1.1\r\nHost: x\r\n"]))
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
    idle = await asyncio.to_thread(exchange, bounded.port, iter([]))
    assert idle.startswith(b"HTTP/1.1 408 "), "a connection that sends nothing"
    reader, writer = await asyncio.open_connection("127.0.0.1", bounded.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await reader.read(65536)).startswith(b"HTTP/1.1 200 "), "a whole request is answered as before"
    writer.close()


async def test_nothing_is_logged_per_connection_at_the_default_level(tmp_path: Path) -> None:
    port, log = free_port(), tmp_path / "tracker.log"
    env = {k: v for k, v in os.environ.items() if k not in ("LOG_LEVEL", "REDIS_URL")}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tracker_app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server("tracker", proc, port)
    try:
        deadline = time.monotonic() + 20
        while b"Uvicorn running" not in log.read_bytes():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
        started = len(log.read_bytes())
        for path in ("/announce", "/"):
            async with Peer(f"ws://127.0.0.1:{port}{path}") as a, Peer(f"ws://127.0.0.1:{port}{path}") as b:
                await a.announce(random_id(), left=0)
                await b.scrape(None)
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do; a non-tracker WebSocket path
            async with Peer(f"ws://127.0.0.1:{port}/elsewhere"):
                pass
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        exchange(port, iter([b"garbage\r\n\r\n"]))
        await asyncio.sleep(0.5)
    finally:
        server.stop()
    during = log.read_bytes()[started:].decode()
    assert "Shutting down" in during, "the log was captured"
    per_connection = [
        line
        for line in during.splitlines()
        if re.search(r"WebSocket|connection (open|closed)|accepted|127\.0\.0\.1:\d+|Invalid HTTP", line)
    ]
    assert per_connection == [], per_connection
