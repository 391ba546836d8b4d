"""Viewers behind NATs share with each other: ICE servers in the build, TURN credentials from
the tracker, and real Chromium viewers on a simulated internet (tests/support/netsim.py).

Each NAT case plays one video in two homes one after the other, with the only seeder
stopped once the first viewer has it all: whatever the second viewer plays came from the
first, through the candidate pair that RTCPeerConnection.getStats() reports.

Measured 2026-12-04 (second viewer, seeder stopped): port-restricted + STUN connects
srflx/srflx; symmetric + STUN only does not connect; symmetric + TURN connects through a
relay; a viewer without UDP connects through TURN over TCP. The share from the first is the
first page's uploaded bytes over the second's downloaded ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, Playwright
from starlette.testclient import TestClient

from tests.support import netsim
from tests.support.browser import chromium
from tests.support.processes import Server, start_tracker
from tests.support.seeder import SeedRun, add, make_clip
from tests.support.site import build_site, run_sitegen, wait_playing, wait_true, write_config
from tests.support.static import StaticSite
from tracker_app import Settings, create_app

SECRET = "test-turn-secret"
STUN = {"urls": f"stun:{netsim.PUBLIC}:3478"}


# --- ice_servers in the build ---


def built_settings(tmp_path: Path, ice_servers: list[dict[str, object]] | None) -> dict[str, object]:
    (tmp_path / "content").mkdir(exist_ok=True)
    site = build_site(
        tmp_path / "content", tmp_path / "site", write_config(tmp_path / "mkdocs.yml", ice_servers=ice_servers)
    )
    html = (site / "share/index.html").read_text()
    start = html.index('"iceServers": ') + len('"iceServers": ')
    return {"iceServers": json.JSONDecoder().raw_decode(html[start:])[0]}


def test_a_site_without_ice_servers_gets_public_stun(tmp_path: Path) -> None:
    servers = built_settings(tmp_path, None)["iceServers"]
    assert servers == [{"urls": "stun:stun.l.google.com:19302"}, {"urls": "stun:stun.cloudflare.com:3478"}]


def test_empty_ice_servers_means_none(tmp_path: Path) -> None:
    assert built_settings(tmp_path, [])["iceServers"] == []


def test_turn_entries_reach_the_player(tmp_path: Path) -> None:
    turn = {"urls": ["turn:turn.example.org:3478", "turns:turn.example.org:5349"], "username": "u", "credential": "p"}
    short = {"urls": "turn:turn.example.org", "credentials_url": "https://tracker.example.org/turn-credentials"}
    assert built_settings(tmp_path, [STUN, turn, short])["iceServers"] == [STUN, turn, short]


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"username": "u"}, "ice_servers entry 2 (no urls): needs 'urls'"),
        (
            {"urls": "http://stun.example.org"},
            "ice_servers entry 2 (http://stun.example.org): 'http://stun.example.org' is not",
        ),
        ({"urls": ["stun:a.example", 7]}, "ice_servers entry 2 (stun:a.example, 7): needs 'urls'"),
        (
            {"urls": "turn:t.example.org", "credential": "hunter2"},
            "ice_servers entry 2 (turn:t.example.org): a TURN URL needs 'username' and 'credential'",
        ),
        (
            {"urls": "turns:t.example.org", "credentials_url": "ftp://x"},
            "credentials_url must be an http:// or https:// URL",
        ),
    ],
)
def test_a_malformed_entry_stops_the_build_in_one_line(tmp_path: Path, entry: dict[str, object], problem: str) -> None:
    (tmp_path / "content").mkdir()
    config = write_config(tmp_path / "mkdocs.yml", ice_servers=[STUN, entry])
    done = run_sitegen("build", "--content", tmp_path / "content", "--out", tmp_path / "site", "-f", config)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and problem in errors[0], done.stderr
    assert "Traceback" not in done.stderr and "hunter2" not in done.stderr  # credentials are never shown


# --- the tracker's TURN credentials ---


def test_turn_credentials_are_what_coturn_checks() -> None:
    settings = Settings(turn_secret=SECRET, turn_ttl=600, turn_origins="https://videos.example.org")
    with TestClient(create_app(settings)) as client:
        before = int(time.time())
        answer = client.get("/turn-credentials", headers={"Origin": "https://videos.example.org"})
        assert answer.headers["access-control-allow-origin"] == "https://videos.example.org"
        assert answer.headers["cache-control"] == "no-store"
        body = answer.json()
        expiry, label = body["username"].split(":")
        assert before + 600 <= int(expiry) <= int(time.time()) + 600 and label == "videoswarm"
        expected = base64.b64encode(hmac.new(SECRET.encode(), body["username"].encode(), hashlib.sha1).digest())
        assert body["credential"] == expected.decode() and body["ttl"] == 600
        other = client.get("/turn-credentials", headers={"Origin": "https://elsewhere.example"})
        assert other.status_code == 403 and "access-control-allow-origin" not in other.headers


def test_no_secret_no_turn_credentials() -> None:
    with TestClient(create_app(Settings())) as client:
        answer = client.get("/turn-credentials")
        assert answer.status_code == 404 and "TURN_SECRET" in answer.json()["error"]


# --- the simulated internet ---


@dataclass
class Outcome:
    """What the second viewer saw of the first: the figures of the closing note."""

    connected: bool
    local: str | None
    remote: str | None
    share_from_first: float
    first_frame_ms: float | None
    status_line: str


@dataclass
class Origin:
    tracker: Server
    site_url: str
    seeder: SeedRun


@pytest.fixture
def internet() -> Iterator[netsim.Internet]:
    with netsim.Internet() as net:
        yield net


@pytest.fixture
def turn(tmp_path: Path) -> Iterator[None]:
    with netsim.coturn(tmp_path, SECRET):
        yield


def turn_servers(tracker: Server) -> list[dict[str, object]]:
    """STUN and TURN (UDP and TCP) on coturn, with credentials from the tracker."""
    urls = [f"turn:{netsim.PUBLIC}:3478?transport=udp", f"turn:{netsim.PUBLIC}:3478?transport=tcp"]
    return [STUN, {"urls": urls, "credentials_url": f"{tracker.http_url}/turn-credentials"}]


@pytest.fixture
def origin(request: pytest.FixtureRequest, internet: netsim.Internet, turn: None, tmp_path: Path) -> Iterator[Origin]:
    """The publisher on the public network: tracker, one seeded video and its site.
    ``request.param`` is the site's ``ice_servers``."""
    tracker = start_tracker(host=netsim.PUBLIC, TURN_SECRET=SECRET)
    seeder = None
    try:
        content, state = tmp_path / "content", tmp_path / "state"
        add(make_clip(tmp_path / "media/clip.mp4"), "--tracker", tracker.ws_url, "--state", state, "--content", content)
        site = build_site(
            content,
            tmp_path / "site",
            write_config(
                tmp_path / "mkdocs.yml",
                [tracker.ws_url],
                ice_servers=turn_servers(tracker) if request.param == "turn" else request.param,
            ),
        )
        seeder = SeedRun(state, "--listen", f"{netsim.PUBLIC}:0", log=tmp_path / "seed.log")
        seeder.wait_for(f"clip.mp4: announced to {tracker.ws_url}")
        with StaticSite(site, host=netsim.PUBLIC) as server:
            yield Origin(tracker, server.url, seeder)
    finally:
        if seeder:
            seeder.stop()
        tracker.stop()
    assert SECRET not in (tmp_path / "seed.log").read_text()


def watch(playwright: Playwright, home: netsim.Home, origin: Origin, tmp_path: Path):  # type: ignore[no-untyped-def]
    return chromium(playwright, str(home.chromium(tmp_path)), netsim.viewer_flags(origin.site_url))


ROUTES = "() => JSON.stringify(window.videoswarm.player.routes || [])"


def two_viewers(
    playwright: Playwright, origin: Origin, homes: list[netsim.Home], tmp_path: Path, wait_s: float = 60
) -> Outcome:
    """The first home plays the whole video from the seeder; the seeder stops; the second plays."""
    page_url = f"{origin.site_url}/clip/"
    with (
        watch(playwright, homes[0], origin, tmp_path) as first_browser,
        watch(playwright, homes[1], origin, tmp_path) as second_browser,
    ):
        first = first_browser.new_page()
        first.goto(page_url)
        wait_playing(first, 60_000)
        wait_true(first, "window.videoswarm.player.torrent.progress === 1", 60_000)
        first_id = first.evaluate("window.videoswarm.client.peerId")
        origin.seeder.stop()
        uploaded_before = first.evaluate("window.videoswarm.player.torrent.uploaded")
        second = second_browser.new_page()
        second.goto(page_url)
        deadline = time.monotonic() + wait_s
        mine: list[dict[str, object]] = []
        while time.monotonic() < deadline:
            routes = json.loads(second.evaluate(ROUTES))
            mine = [r for r in routes if r["peerId"] == first_id and r["downloaded"] > 0 and r["local"]]
            if mine and second.evaluate("window.videoswarm.player.torrent.progress === 1"):
                break
            time.sleep(0.5)
        if not mine:
            return Outcome(False, None, None, 0.0, None, status(second))
        wait_playing(second)
        downloaded = second.evaluate("window.videoswarm.player.torrent.downloaded")
        return Outcome(
            True,
            str(mine[0]["local"]),
            str(mine[0]["remote"]),
            (first.evaluate("window.videoswarm.player.torrent.uploaded") - uploaded_before) / downloaded,
            second.evaluate("window.videoswarm.player.firstFrameAt"),
            status(second),
        )


def status(page: Page) -> str:
    time.sleep(1.1)  # two ticks of the status line, so it shows the latest routes
    return page.locator(".vs-stats").inner_text()


def report(case: str, outcome: Outcome) -> None:
    print(f"\nNAT case {case}: {outcome}")


@pytest.mark.parametrize("origin", [[STUN]], indirect=True)
def test_port_restricted_nats_connect_through_stun(
    playwright: Playwright, internet: netsim.Internet, origin: Origin, tmp_path: Path
) -> None:
    homes = [internet.home("port-restricted"), internet.home("port-restricted")]
    outcome = two_viewers(playwright, origin, homes, tmp_path)
    report("port-restricted, STUN", outcome)
    assert outcome.connected and outcome.share_from_first >= 0.99, outcome
    assert "srflx" in (outcome.local, outcome.remote) or "prflx" in (outcome.local, outcome.remote), outcome
    assert "relay" not in (outcome.local, outcome.remote)
    assert "(1 direct, 0 relayed)" in outcome.status_line


@pytest.mark.parametrize("origin", [[STUN]], indirect=True)
def test_symmetric_nats_with_stun_only_do_not_connect(
    playwright: Playwright, internet: netsim.Internet, origin: Origin, tmp_path: Path
) -> None:
    """Each peer's NAT gives the other a port the STUN server never saw: no candidate pair works."""
    homes = [internet.home("symmetric"), internet.home("symmetric")]
    outcome = two_viewers(playwright, origin, homes, tmp_path, wait_s=30)
    report("symmetric, STUN only", outcome)
    assert not outcome.connected
    assert "0 peers" in outcome.status_line


@pytest.mark.parametrize("origin", ["turn"], indirect=True)
def test_symmetric_nats_connect_through_turn(
    playwright: Playwright, internet: netsim.Internet, origin: Origin, tmp_path: Path
) -> None:
    homes = [internet.home("symmetric"), internet.home("symmetric")]
    outcome = two_viewers(playwright, origin, homes, tmp_path)
    report("symmetric, TURN", outcome)
    assert outcome.connected and outcome.share_from_first >= 0.99, outcome
    assert "relay" in (outcome.local, outcome.remote), outcome
    assert "(0 direct, 1 relayed)" in outcome.status_line


@pytest.mark.parametrize("origin", ["turn"], indirect=True)
def test_a_viewer_without_udp_connects_through_turn_over_tcp(
    playwright: Playwright, internet: netsim.Internet, origin: Origin, tmp_path: Path
) -> None:
    homes = [internet.home("port-restricted"), internet.home("port-restricted", block_udp=True)]
    outcome = two_viewers(playwright, origin, homes, tmp_path)
    report("UDP blocked for the second viewer, TURN over TCP", outcome)
    assert outcome.connected and outcome.share_from_first >= 0.99, outcome
    assert outcome.local == "relay", outcome
