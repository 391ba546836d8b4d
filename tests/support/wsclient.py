"""A scripted WebTorrent tracker client: the real wire protocol, no WebRTC behind it.

It sends exactly what webtorrent and libtorrent send (binary ids as latin-1
strings in JSON text frames), so protocol tests can drive any tracker, ours or
the reference, and check every frame that comes back.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def random_id(prefix: bytes = b"") -> bytes:
    return prefix + os.urandom(20 - len(prefix))


def text(raw: bytes) -> str:
    return raw.decode("latin-1")


def sdp(kind: str, tag: str) -> dict[str, str]:
    """A small but realistic SDP body, tagged so tests can tell offers apart."""
    return {
        "type": kind,
        "sdp": f"v=0\r\no=- {tag} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n",
    }


class Peer:
    """One client socket; ``peer_id`` defaults to a webtorrent-style id."""

    def __init__(self, url: str, peer_id: bytes | None = None, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.peer_id = peer_id or random_id(b"-WW0208-")
        self.headers = headers
        self.ws: ClientConnection | None = None

    async def __aenter__(self) -> Peer:
        self.ws = await connect(self.url, open_timeout=5, max_size=None, additional_headers=self.headers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def send(self, message: dict[str, Any] | str) -> None:
        assert self.ws is not None
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        assert self.ws is not None
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_until(self, predicate, timeout: float = 5) -> dict[str, Any]:
        """The first frame matching ``predicate``, skipping others (e.g. interleaved offers)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.recv(timeout)
                if predicate(message):
                    return message

    async def silent(self, wait: float = 0.3) -> bool:
        """True when nothing arrives within ``wait`` seconds."""
        try:
            await self.recv(wait)
        except TimeoutError:
            return True
        return False

    def announce_message(
        self, info_hash: bytes, event: str | None = "started", left: float | None = 100, offers: int = 0, **extra: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "action": "announce",
            "info_hash": text(info_hash),
            "peer_id": text(self.peer_id),
            "numwant": offers,
            "uploaded": 0,
            "downloaded": 0,
            "left": left,
        }
        if event is not None:
            message["event"] = event
        if offers:
            message["offers"] = [{"offer_id": text(random_id()), "offer": sdp("offer", f"{i}")} for i in range(offers)]
        message.update(extra)
        return message

    async def announce(
        self,
        info_hash: bytes,
        event: str | None = "started",
        left: float | None = 100,
        offers: int = 0,
        timeout: float = 5,
        **extra: Any,
    ) -> dict[str, Any]:
        """Announce and return the tracker's reply for this torrent (offers received meanwhile are skipped)."""
        message = self.announce_message(info_hash, event, left, offers, **extra)
        await self.send(message)
        return await self.recv_until(lambda m: "offer" not in m and "answer" not in m, timeout)

    async def answer(self, offer: dict[str, Any], tag: str = "answer") -> None:
        await self.send(
            {
                "action": "announce",
                "info_hash": offer["info_hash"],
                "peer_id": text(self.peer_id),
                "to_peer_id": offer["peer_id"],
                "offer_id": offer["offer_id"],
                "answer": sdp("answer", tag),
            }
        )

    async def scrape(self, info_hashes: list[bytes] | bytes | None) -> dict[str, Any]:
        message: dict[str, Any] = {"action": "scrape"}
        if isinstance(info_hashes, bytes):
            message["info_hash"] = text(info_hashes)
        elif info_hashes is not None:
            message["info_hash"] = [text(h) for h in info_hashes]
        await self.send(message)
        return await self.recv_until(lambda m: m.get("action") == "scrape")
