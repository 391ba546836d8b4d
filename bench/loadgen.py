"""A closed-loop WebSocket load generator for WebTorrent trackers.

Many peers, one socket each, announce over many torrents. Every announce
carries offers with realistic SDP bodies (what Chrome's webtorrent sends, ICE
candidates included, since webtorrent does not trickle). A share of the offers a
peer receives is answered, as browsers do. Each peer waits for its announce
reply before the next one (closed loop), so the rate measures the tracker, not
the generator's patience.

It speaks only the wire protocol, so it runs against any tracker: ours or the
reference bittorrent-tracker. It uses picows (a Cython WebSocket client) so that
on a 2-core machine the generator costs less CPU than what it measures.

    python bench/loadgen.py ws://127.0.0.1:8000/announce --peers 100 --torrents 1000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
from dataclasses import asdict, dataclass, field

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

#: What Chrome offers in every WebSocket handshake; a tracker may accept or refuse it.
BROWSER_HEADERS = {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"}
_ICE_UFRAG = "aB3d"
_FINGERPRINT = ":".join(f"{b:02X}" for b in bytes(range(32)))


def offer_sdp(session: int) -> dict[str, str]:
    """A datachannel offer shaped like Chrome's, about 700 bytes."""
    lines = [
        "v=0",
        f"o=- {session} 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS",
        "m=application 50712 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 192.0.2.10",
        "a=candidate:1467250027 1 udp 2122260223 192.0.2.10 50712 typ host generation 0 network-id 1",
        "a=candidate:435653019 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0 network-id 1",
        "a=candidate:3354136742 1 udp 1686052607 198.51.100.7 50712 typ srflx raddr 192.0.2.10 rport 50712",
        f"a=ice-ufrag:{_ICE_UFRAG}",
        "a=ice-pwd:7rEdqXnJ1nUe0Yk1bWm5iZ3G",
        "a=ice-options:trickle",
        f"a=fingerprint:sha-256 {_FINGERPRINT}",
        "a=setup:actpass",
        "a=mid:0",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
    ]
    return {"type": "offer", "sdp": "\r\n".join(lines) + "\r\n"}


def answer_sdp(session: int) -> dict[str, str]:
    sdp = offer_sdp(session)["sdp"].replace("a=setup:actpass", "a=setup:active")
    return {"type": "answer", "sdp": sdp}


@dataclass
class Stats:
    #: Announces answered while recording; ``total`` also counts the warm-up, for CPU per announce.
    announces: int = 0
    total: int = 0
    offers_received: int = 0
    answers_received: int = 0
    answers_sent: int = 0
    errors: int = 0
    timeouts: int = 0
    latencies: list[float] = field(default_factory=list)
    recording: bool = False


class Peer(WSListener):
    """One client socket: announces in a closed loop and answers some offers."""

    def __init__(self, stats: Stats, answer_ratio: float, rng: random.Random) -> None:
        self.stats = stats
        self.answer_ratio = answer_ratio
        self.rng = rng
        self.peer_id = (b"-LG0001-" + os.urandom(12)).decode("latin-1")
        self.transport: WSTransport | None = None
        self.reply: asyncio.Future[dict] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return
        message = orjson.loads(frame.get_payload_as_bytes())
        stats = self.stats
        if "offer" in message:
            if stats.recording:
                stats.offers_received += 1
            if self.rng.random() < self.answer_ratio:
                self.send(
                    {
                        "action": "announce",
                        "info_hash": message["info_hash"],
                        "peer_id": self.peer_id,
                        "to_peer_id": message["peer_id"],
                        "offer_id": message["offer_id"],
                        "answer": answer_sdp(self.rng.randrange(1 << 62)),
                    }
                )
                if stats.recording:
                    stats.answers_sent += 1
        elif "answer" in message:
            if stats.recording:
                stats.answers_received += 1
        elif self.reply is not None and not self.reply.done():
            self.reply.set_result(message)
        elif "failure reason" in message and stats.recording:
            stats.errors += 1

    def send(self, message: dict) -> None:
        assert self.transport is not None
        self.transport.send(WSMsgType.TEXT, orjson.dumps(message))

    async def announce(self, info_hash: str, offers: int, timeout: float = 10) -> dict:
        """Announce with ``offers`` offers and wait for the tracker's reply (not the offers it relays)."""
        self.reply = asyncio.get_running_loop().create_future()
        self.send(
            {
                "action": "announce",
                "info_hash": info_hash,
                "peer_id": self.peer_id,
                "numwant": offers,
                "uploaded": 0,
                "downloaded": 0,
                "left": self.rng.choice([0, 1_000_000]),
                "event": "started",
                "offers": [
                    {"offer_id": os.urandom(20).decode("latin-1"), "offer": offer_sdp(self.rng.randrange(1 << 62))}
                    for _ in range(offers)
                ],
            }
        )
        return await asyncio.wait_for(self.reply, timeout)

    async def run(self, torrents: list[str], offers: int, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            started = time.perf_counter()
            try:
                reply = await self.announce(self.rng.choice(torrents), offers)
            except TimeoutError:
                self.stats.timeouts += self.stats.recording
                continue
            self.stats.total += 1
            if not self.stats.recording:
                continue
            if "failure reason" in reply:
                self.stats.errors += 1
            else:
                self.stats.announces += 1
                self.stats.latencies.append(time.perf_counter() - started)


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def connect(
    url: str, peers: int, stats: Stats, answer_ratio: float = 0.0, seed: int = 1, parallel: int = 100
) -> list[Peer]:
    """Open ``peers`` sockets, ``parallel`` handshakes at a time, as browsers would (offering deflate)."""
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> Peer:
        async with gate:
            _, peer = await ws_connect(
                lambda: Peer(stats, answer_ratio, random.Random(seed * 1000 + i)),
                url,
                extra_headers=BROWSER_HEADERS,
                websocket_handshake_timeout=30,
            )
            return peer

    return list(await asyncio.gather(*(one(i) for i in range(peers))))


async def load(
    url: str, peers: int, torrents: int, offers: int, answer_ratio: float, warmup: float, duration: float, seed: int = 1
) -> dict:
    """Run the load and return the measured figures."""
    rng = random.Random(seed)
    hashes = [rng.randbytes(20).decode("latin-1") for _ in range(torrents)]
    stats = Stats()
    clients = await connect(url, peers, stats, answer_ratio, seed)
    loop = asyncio.get_running_loop()
    start = loop.time()
    tasks = [asyncio.create_task(peer.run(hashes, offers, start + warmup + duration)) for peer in clients]
    await asyncio.sleep(warmup)
    stats.recording = True
    measured = loop.time()
    await asyncio.gather(*tasks)
    stats.recording = False
    elapsed = loop.time() - measured
    for peer in clients:
        if peer.transport is not None:
            peer.transport.disconnect()
    result = {k: v for k, v in asdict(stats).items() if k not in ("latencies", "recording")}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_s"] = round(usage.ru_utime + usage.ru_stime, 2)
    return {
        "url": url,
        "peers": peers,
        "torrents": torrents,
        "offers": offers,
        "seconds": round(elapsed, 2),
        "announces_per_s": round(stats.announces / elapsed),
        "offers_per_s": round(stats.offers_received / elapsed),
        "answers_per_s": round(stats.answers_received / elapsed),
        "p50_ms": round(percentile(stats.latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(stats.latencies, 0.99) * 1000, 2),
        **result,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The shape of the load, shared with bench/throughput.py."""
    parser.add_argument("--peers", type=int, default=100, help="sockets, one peer each (default 100)")
    parser.add_argument("--torrents", type=int, default=1000, help="torrents announced over (default 1000)")
    parser.add_argument("--offers", type=int, default=5, help="offers per announce (default 5, as webtorrent)")
    parser.add_argument("--answer-ratio", type=float, default=0.5, help="share of offers answered (default 0.5)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds before measuring (default 2)")
    parser.add_argument("--duration", type=float, default=10, help="seconds measured (default 10)")


def arguments(args: argparse.Namespace) -> list[str]:
    """The command-line flags that reproduce ``args``' load."""
    return [
        "--peers",
        str(args.peers),
        "--torrents",
        str(args.torrents),
        "--offers",
        str(args.offers),
        "--answer-ratio",
        str(args.answer_ratio),
        "--warmup",
        str(args.warmup),
        "--duration",
        str(args.duration),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("url", help="tracker WebSocket URL, e.g. ws://127.0.0.1:8000/announce")
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = uvloop.run(
        load(args.url, args.peers, args.torrents, args.offers, args.answer_ratio, args.warmup, args.duration)
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
