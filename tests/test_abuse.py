"""Forged addresses and state-growing clients: a replica's memory and its per-address limits hold."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.fixtures import tracker_fixture
from tests.support.processes import Server, start_tracker
from tests.support.wsclient import Peer, random_id, text
from tests.test_http_tracker import announce, ascii_id, compact

#: A replica behind one trusted proxy, with a small HTTP allowance per address.
behind_proxy = tracker_fixture(TRACKER_TRUST_PROXY="true", TRACKER_MAX_HTTP_ANNOUNCES_PER_IP="30")
behind_cdn = tracker_fixture(TRACKER_TRUST_PROXY="true", TRACKER_PROXY_HOPS="2")


def addresses_seen(server: Server, info_hash: bytes, forwarded: str | None) -> list[str]:
    """Announce a peer with this X-Forwarded-For, then the addresses a second peer is given."""
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else None
    reply = announce(server.http_url, info_hash, ascii_id(), 6881, headers=headers, event="started")
    assert b"failure reason" not in reply, reply
    reply = announce(server.http_url, info_hash, ascii_id(), 6882, headers={"X-Forwarded-For": "192.0.2.99"})
    return [ip for ip, port in compact(reply[b"peers"]) if port == 6881]


def test_the_address_is_the_one_the_trusted_proxy_appended(behind_proxy: Server) -> None:
    assert addresses_seen(behind_proxy, ascii_id(), "10.9.8.7") == ["10.9.8.7"]
    assert addresses_seen(behind_proxy, ascii_id(), "6.6.6.6, 10.9.8.7") == ["10.9.8.7"], "a forged left entry"
    assert addresses_seen(behind_proxy, ascii_id(), "6.6.6.6,10.9.8.7:4711") == ["10.9.8.7"]


def test_n_hops_from_the_right_behind_a_cdn(behind_cdn: Server) -> None:
    assert addresses_seen(behind_cdn, ascii_id(), "6.6.6.6, 10.9.8.7, 172.16.0.1") == ["10.9.8.7"]
    assert addresses_seen(behind_cdn, ascii_id(), "10.9.8.7") == ["10.9.8.7"], "a request that skipped the CDN"


@pytest.mark.parametrize("garbage", ["not-an-ip", "6.6.6.6, <script>", ", ,", "999.1.1.1", "x" * 5000])
def test_a_malformed_header_falls_back_to_the_socket_address(behind_proxy: Server, garbage: str) -> None:
    assert addresses_seen(behind_proxy, ascii_id(), garbage) == ["127.0.0.1"]


def test_forged_entries_do_not_dodge_the_per_address_limit(behind_proxy: Server) -> None:
    info_hash, refused = ascii_id(), []
    for i in range(40):
        reply = announce(
            behind_proxy.http_url,
            info_hash,
            ascii_id(),
            7000 + i,
            headers={"X-Forwarded-For": f"6.6.{i}.1, 203.0.113.5"},
        )
        if b"failure reason" in reply:
            refused.append(reply[b"failure reason"])
    assert len(refused) == 10, "30 announces per interval from 203.0.113.5, however the left entries vary"
    assert refused[0] == b"too many requests from this address: at most 30 per interval, slow down"
    other = announce(behind_proxy.http_url, info_hash, ascii_id(), 6999, headers={"X-Forwarded-For": "203.0.113.6"})
    assert b"failure reason" not in other, "other addresses are unaffected"


def test_many_http_announces_from_one_address_stop_growing_the_swarms() -> None:
    server = start_tracker(TRACKER_MAX_HTTP_ANNOUNCES_PER_IP="100")
    try:
        replies = [announce(server.http_url, random_id(), random_id(), 6881, left=0) for _ in range(300)]
        reasons = {reply.get(b"failure reason") for reply in replies}
        assert reasons == {None, b"too many requests from this address: at most 100 per interval, slow down"}
        refused = sum(b"failure reason" in reply for reply in replies)
        torrents = httpx.get(f"{server.http_url}/stats.json").json()["torrents"]
        assert (refused, torrents) == (200, 100), "one address made 100 swarms, not 300"
    finally:
        server.stop()


few_swarms = tracker_fixture(TRACKER_MAX_SWARMS_PER_SOCKET="5", TRACKER_INTERVAL="1")


async def test_a_socket_joins_at_most_its_share_of_swarms(few_swarms: Server) -> None:
    torrents = [random_id() for _ in range(6)]
    async with Peer(few_swarms.ws_url) as peer:
        for info_hash in torrents[:5]:
            assert "failure reason" not in await peer.announce(info_hash)
        refused = await peer.announce(torrents[5])
        assert refused["failure reason"] == "too many torrents on this connection: at most 5 at once"
        assert refused["info_hash"] == text(torrents[5])
        assert "failure reason" not in await peer.announce(torrents[0], event=None), "re-announcing is fine"
        assert "failure reason" not in await peer.announce(torrents[1], event="stopped")
        assert "failure reason" not in await peer.announce(torrents[5]), "a stopped swarm frees a place"


async def test_expired_memberships_are_forgotten_while_the_socket_stays(few_swarms: Server) -> None:
    """Peer TTL here is 2.5 s: a socket that stops announcing stops counting, and may join new swarms."""
    stats = f"{few_swarms.http_url}/stats.json"
    async with Peer(few_swarms.ws_url) as peer:
        for _ in range(5):
            assert "failure reason" not in await peer.announce(random_id())
        await asyncio.sleep(1)
        assert httpx.get(stats).json()["clients"] == {"-WW0208-": 5}
        await asyncio.sleep(3.5)
        assert httpx.get(stats).json()["clients"] == {}, "expired memberships are not counted"
        assert "failure reason" not in await peer.announce(random_id()), "and no longer fill the socket's share"
