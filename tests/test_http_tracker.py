"""BitTorrent HTTP announce and scrape (BEP 3, 7, 23, 48), as libtorrent and desktop
clients use them; checked against the reference tracker too.

The reference bencodes binary info hashes and peer ids as UTF-8 text (so they
come back mangled above 0x7f) and lists a peer in its own peer list, so the
shared tests use ASCII ids and look for the other peer; ``test_binary_ids_*``
holds our tracker to the exact bytes.
"""

from __future__ import annotations

import socket
import struct
from urllib.parse import quote_from_bytes

import httpx
import pytest
from fastbencode import bdecode

from tests.support.fixtures import Target, tracker_fixture
from tests.support.processes import Server
from tests.support.wsclient import Peer, random_id


def announce(
    base: str, info_hash: bytes, peer_id: bytes, port: int, headers: dict | None = None, **params: object
) -> dict:
    query = f"info_hash={quote_from_bytes(info_hash)}&peer_id={quote_from_bytes(peer_id)}&port={port}"
    query += "".join(f"&{k}={v}" for k, v in {"uploaded": 0, "downloaded": 0, "left": 100, **params}.items())
    response = httpx.get(f"{base}/announce?{query}", headers=headers)
    assert response.status_code == 200
    return bdecode(response.content)


def scrape(base: str, hashes: list[bytes]) -> dict:
    query = "&".join(f"info_hash={quote_from_bytes(h)}" for h in hashes)
    return bdecode(httpx.get(f"{base}/scrape?{query}").content)


def ascii_id() -> bytes:
    return bytes(b % 0x7F + 1 for b in random_id())


def compact(entries: bytes, size: int = 6) -> list[tuple[str, int]]:
    family = socket.AF_INET if size == 6 else socket.AF_INET6
    return [
        (socket.inet_ntop(family, entries[i : i + size - 2]), struct.unpack(">H", entries[i + size - 2 : i + size])[0])
        for i in range(0, len(entries), size)
    ]


def test_announce_returns_a_compact_peer_list(target: Target) -> None:
    info_hash = ascii_id()
    first = announce(target.http(0), info_hash, b"-LT2110-" + ascii_id()[8:], 6881, left=0, event="started")
    assert (first[b"complete"], first[b"incomplete"]) == (1, 0)
    assert first[b"interval"] > 0
    second = announce(target.http(1), info_hash, b"-qB4620-" + ascii_id()[8:], 6882, event="started", compact=1)
    assert (second[b"complete"], second[b"incomplete"]) == (1, 1)
    assert ("127.0.0.1", 6881) in compact(second[b"peers"])


def test_announce_without_compact_lists_peer_dicts(target: Target) -> None:
    info_hash, seeder_id = ascii_id(), b"-LT2110-" + ascii_id()[8:]
    announce(target.http(0), info_hash, seeder_id, 7001, left=0, event="started")
    reply = announce(target.http(1), info_hash, ascii_id(), 7002, event="started", compact=0)
    assert {b"ip": b"127.0.0.1", b"port": 7001, b"peer id": seeder_id} in reply[b"peers"]


def test_stopped_http_peer_leaves(target: Target) -> None:
    info_hash, peer_id = ascii_id(), ascii_id()
    announce(target.http(0), info_hash, peer_id, 7003, event="started")
    announce(target.http(1), info_hash, peer_id, 7003, event="stopped")
    files = scrape(target.http(0), [info_hash])[b"files"]
    assert files[info_hash][b"incomplete"] == 0


def test_scrape_one_several_and_all(target: Target) -> None:
    first, second = ascii_id(), ascii_id()
    announce(target.http(0), first, ascii_id(), 7004, left=0, event="completed")
    announce(target.http(1), second, ascii_id(), 7005, event="started")
    one = scrape(target.http(0), [first])[b"files"]
    assert one[first][b"complete"] == 1 and one[first][b"downloaded"] == 1
    several = scrape(target.http(1), [first, second])[b"files"]
    assert set(several) == {first, second}
    assert several[second][b"incomplete"] == 1
    assert {first, second} <= set(scrape(target.http(0), [])[b"files"])


@pytest.mark.parametrize(
    "query, reason",
    [
        ("peer_id=x&port=1", b"info_hash"),
        ("info_hash=abc&peer_id=abcdefghijklmnopqrst&port=1", b"info_hash"),
    ],
)
def test_bad_announce_gets_a_bencoded_failure_reason(target: Target, query: str, reason: bytes) -> None:
    response = httpx.get(f"{target.http(0)}/announce?{query}")
    assert reason in bdecode(response.content)[b"failure reason"]


@pytest.mark.parametrize(
    "query, reason",
    [
        ("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=abcdefghijklmnopqrst", b"port must be a number"),
        ("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=abcdefghijklmnopqrst&port=99999", b"port must be a number"),
        ("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=abcdefghijklmnopqrst&port=1&left=lots", b"left must be a whole"),
        ("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=abcdefghijklmnopqrst&port=1&event=dance", b"invalid event"),
        ("info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=short&port=1", b"peer_id must be 20 bytes"),
    ],
)
def test_each_bad_field_is_named(ours: Target, query: str, reason: bytes) -> None:
    assert reason in bdecode(httpx.get(f"{ours.http(0)}/announce?{query}").content)[b"failure reason"]


def test_bad_scrape_hash_is_named(ours: Target) -> None:
    reply = bdecode(httpx.get(f"{ours.http(0)}/scrape?info_hash=short").content)
    assert b"info_hash must be 20 bytes" in reply[b"failure reason"]


def test_binary_ids_exact_bytes_and_never_oneself(ours: Target) -> None:
    info_hash, seeder_id, leecher_id = b"\xff" * 10 + random_id()[10:], random_id(b"-LT2110-"), random_id()
    announce(ours.http(0), info_hash, seeder_id, 7101, left=0, event="completed")
    reply = announce(ours.http(1), info_hash, leecher_id, 7102, event="started", compact=0)
    assert reply[b"peers"] == [{b"ip": b"127.0.0.1", b"port": 7101, b"peer id": seeder_id}]
    reply = announce(ours.http(0), info_hash, leecher_id, 7102, compact=1)
    assert compact(reply[b"peers"]) == [("127.0.0.1", 7101)]
    files = scrape(ours.http(1), [info_hash])[b"files"]
    assert files == {info_hash: {b"complete": 1, b"incomplete": 1, b"downloaded": 1}}


behind_proxy = tracker_fixture(TRACKER_TRUST_PROXY="true")


def test_ipv6_peers_come_back_in_peers6(behind_proxy: Server) -> None:
    info_hash = random_id()
    announce(behind_proxy.http_url, info_hash, random_id(), 6881, headers={"X-Forwarded-For": "10.0.0.1, 2001:db8::7"})
    announce(behind_proxy.http_url, info_hash, random_id(), 6882, headers={"X-Forwarded-For": "192.0.2.9"})
    reply = announce(behind_proxy.http_url, info_hash, random_id(), 6883, headers={"X-Forwarded-For": "192.0.2.10"})
    assert compact(reply[b"peers"]) == [("192.0.2.9", 6882)]
    assert compact(reply[b"peers6"], 18) == [("2001:db8::7", 6881)]


async def test_http_and_websocket_peers_share_a_swarm(ours: Target) -> None:
    info_hash = random_id()
    announce(ours.http(0), info_hash, random_id(b"-LT2110-"), 6881, left=0, event="started")
    async with Peer(ours.ws(1)) as browser:
        reply = await browser.announce(info_hash, left=100, offers=3)
        assert (reply["complete"], reply["incomplete"]) == (1, 1)
        assert await browser.silent(), "a WebRTC peer is never sent an HTTP peer's offer slot"
