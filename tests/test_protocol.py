"""The WebTorrent wire protocol, message by message.

Each test runs against one replica, against two replicas sharing one real
redis-server (consecutive peers on different replicas, so every relay crosses
replicas), and against the reference bittorrent-tracker, whose behaviour is the
standard here.
"""

from __future__ import annotations

import asyncio

from tests.support.fixtures import Target
from tests.support.wsclient import Peer, random_id, sdp, text


async def test_announce_reply_carries_action_interval_hash_and_counts(target: Target) -> None:
    info_hash = random_id()
    async with Peer(target.ws(0)) as seeder, Peer(target.ws(1)) as leecher:
        first = await seeder.announce(info_hash, left=0)
        assert first["action"] == "announce"
        assert first["info_hash"] == text(info_hash)
        assert first["interval"] == 120
        assert (first["complete"], first["incomplete"]) == (1, 0)
        second = await leecher.announce(info_hash, left=100)
        assert (second["complete"], second["incomplete"]) == (1, 1)


async def test_offer_reaches_the_other_peer_with_sender_id_and_offer_id(target: Target) -> None:
    info_hash = random_id()
    async with Peer(target.ws(0)) as seeder, Peer(target.ws(1)) as leecher:
        await seeder.announce(info_hash, left=0)
        message = leecher.announce_message(info_hash, offers=1)
        await leecher.send(message)
        offer = await seeder.recv_until(lambda m: "offer" in m)
        assert offer["action"] == "announce"
        assert offer["peer_id"] == text(leecher.peer_id)
        assert offer["info_hash"] == text(info_hash)
        assert offer["offer_id"] == message["offers"][0]["offer_id"]
        assert offer["offer"] == message["offers"][0]["offer"]
        reply = await leecher.recv()
        assert "offer" not in reply and reply["complete"] == 1
        assert await leecher.silent(), "the sender must never receive its own offer"


async def test_one_offer_per_peer_never_to_the_sender(target: Target) -> None:
    info_hash = random_id()
    others = [Peer(target.ws(i)) for i in range(3)]
    sender = Peer(target.ws(3))
    for peer in [*others, sender]:
        await peer.__aenter__()
    try:
        for peer in others:
            await peer.announce(info_hash, left=0)
        message = sender.announce_message(info_hash, offers=5)
        await sender.send(message)
        received = [await peer.recv_until(lambda m: "offer" in m) for peer in others]
        offer_ids = {offer["offer_id"] for offer in received}
        assert len(offer_ids) == 3, "each peer gets a different offer"
        assert offer_ids <= {o["offer_id"] for o in message["offers"]}
        for peer in others:
            assert await peer.silent(0.2), "one offer per peer"
        assert (await sender.recv())["complete"] == 3
        assert await sender.silent(0.2)
    finally:
        for peer in [*others, sender]:
            await peer.close()


async def test_answer_goes_back_to_the_offering_socket(target: Target) -> None:
    info_hash = random_id()
    async with Peer(target.ws(0)) as seeder, Peer(target.ws(1)) as leecher:
        await seeder.announce(info_hash, left=0)
        message = leecher.announce_message(info_hash, offers=1)
        await leecher.send(message)
        await leecher.recv()
        offer = await seeder.recv_until(lambda m: "offer" in m)
        await seeder.answer(offer, tag="from-seeder")
        answer = await leecher.recv_until(lambda m: "answer" in m)
        assert answer["action"] == "announce"
        assert answer["peer_id"] == text(seeder.peer_id)
        assert answer["offer_id"] == message["offers"][0]["offer_id"]
        assert answer["info_hash"] == text(info_hash)
        assert answer["answer"] == sdp("answer", "from-seeder")
        assert await seeder.silent(), "an answer gets no reply of its own"


async def test_scrape_one_several_and_all(target: Target) -> None:
    first, second = random_id(), random_id()
    async with Peer(target.ws(0)) as a, Peer(target.ws(1)) as b:
        await a.announce(first, left=0)
        await b.announce(first, left=100)
        await b.announce(second, event="completed", left=0)
        one = await b.scrape(first)
        assert one["files"][text(first)]["complete"] == 1
        assert one["files"][text(first)]["incomplete"] == 1
        assert "downloaded" in one["files"][text(first)]
        several = await a.scrape([first, second])
        assert set(several["files"]) == {text(first), text(second)}
        assert several["files"][text(second)]["complete"] == 1
        assert several["files"][text(second)]["downloaded"] == 1
        everything = await a.scrape(None)
        assert {text(first), text(second)} <= set(everything["files"])


async def test_every_event_real_clients_send(target: Target) -> None:
    """webtorrent seeders send ``completed`` first, then ``started`` with offers;
    some clients send ``empty``, ``paused`` or no event; ``stopped`` may lack ``left``."""
    info_hash = random_id()
    async with Peer(target.ws(0)) as seeder, Peer(target.ws(1)) as leecher:
        assert (await seeder.announce(info_hash, event="completed", left=0))["complete"] == 1
        assert (await seeder.announce(info_hash, event="started", left=0, offers=5))["complete"] == 1
        for event in ("empty", "paused", None, "update"):
            reply = await leecher.announce(info_hash, event=event, left=10)
            assert (reply["complete"], reply["incomplete"]) == (1, 1), event
        await leecher.send(
            {"action": "announce", "event": "stopped", "info_hash": text(info_hash), "peer_id": text(leecher.peer_id)}
        )
        await leecher.recv()
        await asyncio.sleep(0.1)
        files = (await seeder.scrape(info_hash))["files"][text(info_hash)]
        assert (files["complete"], files["incomplete"]) == (1, 0)


async def test_one_socket_serves_many_torrents_and_closing_it_leaves_them_all(target: Target) -> None:
    torrents = [random_id(), random_id()]
    async with Peer(target.ws(0)) as watcher:
        async with Peer(target.ws(1)) as client:
            for info_hash in torrents:
                await client.announce(info_hash, left=0)
            for info_hash in torrents:
                message = watcher.announce_message(info_hash, offers=1)
                await watcher.send(message)
                offer = await client.recv_until(lambda m: "offer" in m)
                assert offer["info_hash"] == text(info_hash), "offers arrive tagged with their torrent"
        await asyncio.sleep(0.3)  # the close travels to the tracker
        files = (await watcher.scrape(torrents))["files"]
        for info_hash in torrents:
            assert files[text(info_hash)]["complete"] == 0
