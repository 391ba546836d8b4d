"""Memory a replica holds for peers that stop reading, before it drops them.

    .venv/bin/python bench/stalled.py --stalled 20

``--stalled`` raw sockets with a tiny receive buffer join one swarm and never read;
a leecher keeps announcing into it with 20 offers of ~2.7 KB each, so every stalled
socket is sent an offer per announce, until the replica has dropped them all
(``TRACKER_SEND_BUFFER``, default 256 KiB). Prints the replica's peak RSS growth per
stalled socket; the kernel's send buffer (a fixed 128 KiB) is on top, outside RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.measure import rss_bytes  # noqa: E402
from tests.support.processes import start_tracker  # noqa: E402
from tests.support.wsclient import Peer, random_id  # noqa: E402
from tests.test_transport import StalledPeer, slow_readers_dropped  # noqa: E402

OFFER_PADDING = "a=candidate:" + "x" * 2500


async def fill(stalled: int) -> None:
    server = start_tracker(TRACKER_MAX_ANNOUNCES="1000000", LOG_LEVEL="warning")
    try:
        swarm = random_id()
        sockets = [StalledPeer(server.port) for _ in range(stalled)]
        for sock in sockets:
            sock.announce(swarm)
        await asyncio.sleep(1)
        baseline = peak = rss_bytes([server.proc.pid])
        announces = 0
        async with Peer(server.ws_url) as leecher:
            while slow_readers_dropped(server) < stalled and announces < 20_000:
                message = leecher.announce_message(swarm, event=None, offers=20)
                for offer in message["offers"]:
                    offer["offer"]["sdp"] += OFFER_PADDING
                await leecher.send(message)
                await leecher.recv_until(lambda m: "offer" not in m and "answer" not in m)
                announces += 1
                peak = max(peak, rss_bytes([server.proc.pid]))
        print(
            f"{stalled} stalled sockets dropped after {announces} announces; peak RSS growth "
            f"{(peak - baseline) / 1024:.0f} KiB, {(peak - baseline) / stalled / 1024:.0f} KiB per stalled socket"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stalled", type=int, default=20, help="sockets that never read (default 20)")
    asyncio.run(fill(parser.parse_args().stalled))


if __name__ == "__main__":
    main()
