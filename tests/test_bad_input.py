"""Bad WebSocket input: each gets a ``failure reason`` naming the problem, with
``action`` and ``info_hash`` where known, and the socket stays usable."""

from __future__ import annotations

import pytest

from tests.support.fixtures import Target
from tests.support.wsclient import Peer, random_id, sdp, text

HASH = random_id()
PEER = random_id(b"-WW0208-")

CASES = [
    ("not json", "{nope", "invalid JSON", None),
    ("not an object", "[1, 2]", "must be a JSON object", None),
    ("unknown action", {"action": "dance", "info_hash": text(HASH)}, "invalid action", HASH),
    (
        "info_hash a number",
        {"action": "announce", "info_hash": 7, "peer_id": text(PEER)},
        "info_hash must be a string",
        None,
    ),
    (
        "info_hash too short",
        {"action": "announce", "info_hash": "abc", "peer_id": text(PEER)},
        "info_hash must be 20 characters",
        None,
    ),
    (
        "info_hash beyond latin-1",
        {"action": "announce", "info_hash": "€" * 20, "peer_id": text(PEER)},
        "one character per byte",
        None,
    ),
    ("peer_id missing", {"action": "announce", "info_hash": text(HASH)}, "peer_id must be a string", HASH),
    (
        "peer_id too long",
        {"action": "announce", "info_hash": text(HASH), "peer_id": "x" * 21},
        "peer_id must be 20 characters",
        HASH,
    ),
    (
        "bad event",
        {"action": "announce", "info_hash": text(HASH), "peer_id": text(PEER), "event": "dance"},
        "invalid event",
        HASH,
    ),
    (
        "left a list",
        {"action": "announce", "info_hash": text(HASH), "peer_id": text(PEER), "left": []},
        "left must be a number",
        HASH,
    ),
    (
        "offers an object",
        {"action": "announce", "info_hash": text(HASH), "peer_id": text(PEER), "offers": {}},
        "offers must be a list",
        HASH,
    ),
    (
        "offer without sdp",
        {
            "action": "announce",
            "info_hash": text(HASH),
            "peer_id": text(PEER),
            "offers": [{"offer_id": text(random_id()), "offer": {"type": "offer"}}],
        },
        "offer must be an object with an sdp",
        HASH,
    ),
    (
        "offer_id too short",
        {
            "action": "announce",
            "info_hash": text(HASH),
            "peer_id": text(PEER),
            "offers": [{"offer_id": "short", "offer": sdp("offer", "x")}],
        },
        "offer_id must be 20 characters",
        HASH,
    ),
    (
        "answer without to_peer_id",
        {
            "action": "announce",
            "info_hash": text(HASH),
            "peer_id": text(PEER),
            "answer": sdp("answer", "x"),
            "offer_id": text(random_id()),
        },
        "to_peer_id must be a string",
        HASH,
    ),
    (
        "answer to nobody",
        {
            "action": "announce",
            "info_hash": text(HASH),
            "peer_id": text(PEER),
            "answer": sdp("answer", "x"),
            "offer_id": text(random_id()),
            "to_peer_id": text(random_id()),
        },
        "no peer with that to_peer_id",
        HASH,
    ),
    ("scrape hash wrong type", {"action": "scrape", "info_hash": 5}, "info_hash must be a string", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
async def test_bad_message_gets_a_failure_reason_and_the_socket_stays_usable(ours: Target, case) -> None:
    _, message, reason, info_hash = case
    async with Peer(ours.ws(0)) as peer:
        await peer.send(message)
        reply = await peer.recv()
        assert reason in reply["failure reason"]
        assert reply["action"] in ("announce", "scrape")
        if info_hash is not None:
            assert reply["info_hash"] == text(info_hash)
        good = random_id()
        assert (await peer.announce(good, left=0))["complete"] == 1, "the socket still works"


async def test_scrape_failure_says_scrape(ours: Target) -> None:
    async with Peer(ours.ws(0)) as peer:
        await peer.send({"action": "scrape", "info_hash": ["x"]})
        reply = await peer.recv()
        assert reply["action"] == "scrape"
        assert "info_hash must be 20 characters" in reply["failure reason"]


async def test_binary_frame_is_parsed_like_text(ours: Target) -> None:
    async with Peer(ours.ws(0)) as peer:
        assert peer.ws is not None
        info_hash = random_id()
        await peer.ws.send(peer.announce_message(info_hash, left=0).__repr__().encode())  # not JSON
        assert "invalid JSON" in (await peer.recv())["failure reason"]
