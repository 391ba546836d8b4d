"""The tracker's endpoints and ``Tracker`` in this process, through the ASGI app (Starlette's ``TestClient``).

Fast beside the end-to-end tests, which start replicas as processes. Each test runs on a
fresh app over the memory store and over a real redis-server of this module's own (so
totals start at zero). Most WebSocket tests here cover what the ASGI app serves, through
the ``TrackerSockets`` middleware (under another ASGI server); the ``lean`` ones run the
tracker sockets that ``tracker`` serves (uvicorn with ``tracker_app.transport``) in this
process too (tests/support/lean.py), as do test_transport.py, test_reliability.py and
test_admission.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fastbencode import bdecode
from starlette.testclient import TestClient, WebSocketTestSession

from tests.support.lean import serve_lean
from tests.support.processes import start_redis
from tests.support.wsclient import Peer, random_id, sdp, text
from tracker_app import Settings, create_app
from tracker_app.tracker import NO_OFFER, NOT_ALLOWED, Tracker

_db = itertools.count(1)


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    server = start_redis(tmp_path_factory.mktemp("redis-inprocess"))
    yield server.port
    server.stop()


@pytest.fixture(params=["memory", "redis"])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "memory":
        return Settings()
    port = request.getfixturevalue("redis_port")
    return Settings(redis_url=f"redis://127.0.0.1:{port}/{next(_db) % 16}")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        yield client


def http_announce(
    client: TestClient, info_hash: bytes, peer_id: bytes, port: int, left: int, **params: object
) -> dict[bytes, Any]:
    query = f"info_hash={quote_from_bytes(info_hash)}&peer_id={quote_from_bytes(peer_id)}&port={port}"
    query += "".join(f"&{k}={v}" for k, v in {"uploaded": 0, "downloaded": 0, "left": left, **params}.items())
    response = client.get(f"/announce?{query}")
    assert response.status_code == 200
    reply: dict[bytes, Any] = bdecode(response.content)
    return reply


def ws_announce(
    ws: WebSocketTestSession, info_hash: bytes, peer_id: bytes, left: int = 100, offers: int = 0
) -> dict[str, Any]:
    ws.send_json(
        {
            "action": "announce",
            "info_hash": text(info_hash),
            "peer_id": text(peer_id),
            "event": "started",
            "numwant": offers,
            "uploaded": 0,
            "downloaded": 0,
            "left": left,
            "offers": [{"offer_id": text(random_id()), "offer": sdp("offer", str(i))} for i in range(offers)],
        }
    )
    reply: dict[str, Any] = ws.receive_json()
    return reply


def test_health_names_the_storage(client: TestClient, settings: Settings) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["storage"] == ("redis" if settings.redis_url else "memory")


def test_http_announce_scrape_and_the_totals_everywhere(client: TestClient) -> None:
    info_hash = random_id()
    seeder = http_announce(client, info_hash, random_id(b"-LT2110-"), 6881, left=0, event="started")
    assert (seeder[b"complete"], seeder[b"incomplete"], seeder[b"interval"]) == (1, 0, 120)
    leecher = http_announce(client, info_hash, random_id(b"-qB4620-"), 6882, left=5, compact=1)
    assert (leecher[b"complete"], leecher[b"incomplete"]) == (1, 1)
    assert leecher[b"peers"] == bytes([127, 0, 0, 1]) + (6881).to_bytes(2, "big")

    files = bdecode(client.get(f"/scrape?info_hash={quote_from_bytes(info_hash)}").content)[b"files"]
    assert files[info_hash][b"complete"] == 1 and files[info_hash][b"incomplete"] == 1

    stats = client.get("/stats.json").json()
    assert (stats["torrents"], stats["peers"], stats["seeders"], stats["leechers"]) == (1, 2, 1, 1)
    page = client.get("/stats").text
    assert "<tr><th>Peers</th><td>2</td></tr>" in page and "<tr><th>Seeders</th><td>1</td></tr>" in page
    metrics = client.get("/metrics").text
    assert 'tracker_announces_total{transport="http"} 2.0' in metrics
    assert "tracker_torrents 1.0" in metrics
    assert 'tracker_scrapes_total{transport="http"} 1.0' in metrics


def test_a_bad_http_announce_gets_a_failure_reason(client: TestClient) -> None:
    reply = bdecode(client.get("/announce?info_hash=short&port=1").content)
    assert b"failure reason" in reply


def test_websocket_offer_answer_and_scrape(client: TestClient) -> None:
    info_hash = random_id()
    seeder_id, leecher_id = random_id(b"-WW0208-"), random_id(b"-WW0208-")
    with client.websocket_connect("/announce") as seeder, client.websocket_connect("/") as leecher:
        assert ws_announce(seeder, info_hash, seeder_id, left=0)["complete"] == 1
        reply = ws_announce(leecher, info_hash, leecher_id, offers=2)
        assert (reply["complete"], reply["incomplete"]) == (1, 1)

        offer = seeder.receive_json()  # one other peer: the first offer goes to it
        assert (offer["peer_id"], offer["info_hash"], offer["offer"]["type"]) == (
            text(leecher_id),
            text(info_hash),
            "offer",
        )
        seeder.send_json(
            {
                "action": "announce",
                "info_hash": text(info_hash),
                "peer_id": text(seeder_id),
                "to_peer_id": offer["peer_id"],
                "offer_id": offer["offer_id"],
                "answer": sdp("answer", "a"),
            }
        )
        answer = leecher.receive_json()
        assert (answer["peer_id"], answer["offer_id"], answer["answer"]["type"]) == (
            text(seeder_id),
            offer["offer_id"],
            "answer",
        )

        seeder.send_json({"action": "scrape", "info_hash": text(info_hash)})
        scrape = seeder.receive_json()
        assert scrape["files"][text(info_hash)]["complete"] == 1

        # An answer to an offer this socket was never given goes nowhere.
        leecher.send_json(
            {
                "action": "announce",
                "info_hash": text(info_hash),
                "peer_id": text(leecher_id),
                "to_peer_id": text(seeder_id),
                "offer_id": text(random_id()),
                "answer": sdp("answer", "b"),
            }
        )
        assert leecher.receive_json()["failure reason"] == NO_OFFER
        metrics = client.get("/metrics").text
        assert "tracker_websocket_connections 2.0" in metrics
        assert "tracker_offers_relayed_total 1.0" in metrics and "tracker_answers_relayed_total 1.0" in metrics

    # Closed sockets leave their swarms (scrape: /stats.json may be cached for a few seconds).
    files = bdecode(client.get(f"/scrape?info_hash={quote_from_bytes(info_hash)}").content)[b"files"]
    assert (files[info_hash][b"complete"], files[info_hash][b"incomplete"]) == (0, 0)


async def test_lean_sockets_offer_answer_and_scrape(settings: Settings) -> None:
    """The same story on the lean transport, which the ASGI path above does not reach."""
    async with serve_lean(settings) as lean:
        info_hash, tracker = random_id(), lean.tracker
        async with Peer(lean.ws_url) as seeder, Peer(f"ws://127.0.0.1:{lean.port}/") as leecher:
            assert (await seeder.announce(info_hash, left=0))["complete"] == 1
            reply = await leecher.announce(info_hash, offers=2)
            assert (reply["complete"], reply["incomplete"]) == (1, 1)
            offer = await seeder.recv_until(lambda m: "offer" in m)
            assert (offer["peer_id"], offer["info_hash"]) == (text(leecher.peer_id), text(info_hash))
            await seeder.answer(offer)
            answer = await leecher.recv_until(lambda m: "answer" in m)
            assert (answer["peer_id"], answer["offer_id"]) == (text(seeder.peer_id), offer["offer_id"])
            assert (await seeder.scrape(info_hash))["files"][text(info_hash)]["complete"] == 1
            assert sorted(conn.ip for conn in tracker.connections) == ["127.0.0.1", "127.0.0.1"]
            sample = tracker.metrics.registry.get_sample_value
            assert (sample("tracker_websocket_connections"), sample("tracker_answers_relayed_total")) == (2, 1)
        async with asyncio.timeout(5):  # the closes reach the replica, then the store, soon after
            while (counts := (await tracker.store.scrape([info_hash], 1))[info_hash]).complete + counts.incomplete:
                await asyncio.sleep(0.01)
        assert len(tracker.connections) == 0
        assert tracker.metrics.registry.get_sample_value("tracker_websocket_connections") == 0


def test_a_malformed_frame_is_answered_and_the_socket_stays_open(client: TestClient) -> None:
    with client.websocket_connect("/announce") as ws:
        ws.send_text("{not json")
        assert "failure reason" in ws.receive_json()
        assert ws_announce(ws, random_id(), random_id())["complete"] == 0


def test_tracker_directly_refuses_torrents_off_the_allowlist(tmp_path: Path, settings: Settings) -> None:
    allowed = random_id()
    allowlist = tmp_path / "allow.txt"
    allowlist.write_text(allowed.hex() + "\n")
    app = create_app(dataclasses.replace(settings, allowlist=allowlist))
    with TestClient(app) as client:
        tracker: Tracker = app.state.tracker

        def announce(info_hash: bytes, peer_id: bytes) -> dict[bytes, Any]:
            query = (
                f"info_hash={quote_from_bytes(info_hash)}&peer_id={quote_from_bytes(peer_id)}&port=6881"
                "&uploaded=0&downloaded=0&left=0"
            ).encode()
            reply: dict[bytes, Any] = bdecode(client.portal.call(tracker.http_announce, query, "10.0.0.7"))
            return reply

        assert announce(allowed, random_id(b"-TR4060-"))[b"complete"] == 1
        assert announce(random_id(), random_id())[b"failure reason"] == NOT_ALLOWED.encode()
        assert tracker.clients() == {"-TR4060-": 1}  # the refused announce is not counted
