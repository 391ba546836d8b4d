"""Where Videoswarm's tracker deliberately differs from the reference."""

from __future__ import annotations

from tests.support.fixtures import Target
from tests.support.wsclient import Peer, random_id, text


async def test_missing_or_null_left_is_a_leecher(ours: Target) -> None:
    """The reference counts ``left: null`` (what browsers send) as a seeder; we do not."""
    info_hash = random_id()
    async with Peer(ours.ws(0)) as a, Peer(ours.ws(1)) as b:
        assert (await a.announce(info_hash, left=None))["incomplete"] == 1
        message = b.announce_message(info_hash)
        del message["left"]
        await b.send(message)
        assert ((await b.recv())["complete"], 0) == (0, 0)


async def test_a_second_socket_cannot_take_a_peer_id(ours: Target) -> None:
    info_hash = random_id()
    owner_id = random_id(b"-WW0208-")
    async with Peer(ours.ws(0), owner_id) as owner, Peer(ours.ws(1), owner_id) as thief, Peer(ours.ws(0)) as other:
        await owner.announce(info_hash, left=0)
        reply = await thief.announce(info_hash, left=0)
        assert "peer_id already in use" in reply["failure reason"]
        assert reply["info_hash"] == text(info_hash)
        await other.send(other.announce_message(info_hash, offers=1))
        assert "offer" in await owner.recv_until(lambda m: "offer" in m)
        assert await thief.silent(), "the thief receives none of the owner's offers"
        await owner.send(owner.announce_message(info_hash, offers=1))
        await other.answer(await other.recv_until(lambda m: "offer" in m))
        assert "answer" in await owner.recv_until(lambda m: "answer" in m)
        assert await thief.silent(), "nor the answers to the owner's offers"


async def test_an_answer_must_answer_an_offer_this_socket_received(ours: Target) -> None:
    info_hash = random_id()
    async with Peer(ours.ws(0)) as seeder, Peer(ours.ws(1)) as leecher, Peer(ours.ws(0)) as stranger:
        await seeder.announce(info_hash, left=0)
        await leecher.send(leecher.announce_message(info_hash, offers=1))
        offer = await seeder.recv_until(lambda m: "offer" in m)
        await stranger.answer(offer)
        reply = await stranger.recv_until(lambda m: "failure reason" in m)
        assert "no peer with that to_peer_id" in reply["failure reason"]
        await seeder.answer(offer)
        assert "answer" in await leecher.recv_until(lambda m: "answer" in m)
        await seeder.answer(offer)
        assert "failure reason" in await seeder.recv(), "an offer is answered once"


async def test_the_bare_tracker_url_is_a_socket_too(ours: Target) -> None:
    """Tracker URLs look like ``wss://tracker.example.com``: the root path must signal too."""
    root = ours.ws(0).removesuffix("/announce")
    info_hash = random_id()
    async with Peer(root) as seeder, Peer(ours.ws(1)) as leecher:
        await seeder.announce(info_hash, left=0)
        await leecher.send(leecher.announce_message(info_hash, offers=1))
        assert (await seeder.recv_until(lambda m: "offer" in m))["peer_id"] == text(leecher.peer_id)
