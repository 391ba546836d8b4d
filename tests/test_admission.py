"""Who may hold a tracker socket, the same on both transports (issue 24): the client's address
behind proxies, the per-address cap, and the refusal a socket over it gets.

The lean transport is what ``tracker`` runs (served here in process, tests/support/lean.py);
the ASGI path is what Starlette's ``TestClient`` and other servers reach.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed

from tests.support.lean import LeanTracker, lean_fixture
from tests.support.wsclient import Peer, random_id
from tracker_app import Settings, create_app
from tracker_app.tracker import Tracker

#: Viewer -> CDN edge -> PaaS router -> replica: the router appends the edge, the edge appended the viewer.
CDN = {"TRACKER_TRUST_PROXY": "true", "TRACKER_PROXY_HOPS": "2", "TRACKER_MAX_CONNECTIONS_PER_IP": "1"}
EDGE = "198.51.100.1"
VIEWERS = ("203.0.113.5", "203.0.113.6")
REFUSED = (1008, "too many connections from this address")

behind_cdn = lean_fixture(**CDN)


def forwarded(viewer: str, forged: str = "") -> dict[str, str]:
    return {"X-Forwarded-For": f"{forged}{viewer}, {EDGE}"}


def refusals(tracker: Tracker) -> float | None:
    return tracker.metrics.registry.get_sample_value("tracker_failures_total", {"kind": "too_many_connections"})


async def test_behind_a_cdn_the_lean_transport_caps_each_viewer_not_the_edge(behind_cdn: LeanTracker) -> None:
    """TRACKER_PROXY_HOPS=2: two viewers behind one CDN edge each get their one socket; a third for a viewer
    who holds one (a forged entry on the left changes nothing) is refused with 1008."""
    url = behind_cdn.ws_url
    async with Peer(url, headers=forwarded(VIEWERS[0])), Peer(url, headers=forwarded(VIEWERS[1])) as second:
        assert (await second.announce(random_id(), left=0))["complete"] == 1
        assert sorted(conn.ip for conn in behind_cdn.tracker.connections) == list(VIEWERS)
        async with Peer(url, headers=forwarded(VIEWERS[0], forged="6.6.6.6, ")) as again:
            with pytest.raises(ConnectionClosed) as closed:
                await again.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == REFUSED
        assert refusals(behind_cdn.tracker) == 1
        assert (await second.scrape(None))["files"] is not None, "the admitted sockets are unaffected"


def test_the_asgi_path_admits_and_refuses_the_same_way() -> None:
    app = create_app(Settings.from_env(CDN))
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        tracker: Tracker = app.state.tracker
        with client.websocket_connect("/announce", headers=forwarded(VIEWERS[0])):
            with client.websocket_connect("/announce", headers=forwarded(VIEWERS[1])):
                assert sorted(conn.ip for conn in tracker.connections) == list(VIEWERS)
                with client.websocket_connect("/announce", headers=forwarded(VIEWERS[0], "6.6.6.6, ")) as again:
                    with pytest.raises(WebSocketDisconnect) as closed:
                        again.receive_text()
        assert (closed.value.code, closed.value.reason) == REFUSED
        assert refusals(tracker) == 1
