"""``seed add`` then ``seed run``, as an operator runs them, serve real WebTorrent peers.

Chromium (webtorrent 2.8.5 in the page) and a Node webtorrent peer download from the
seeder through the project's tracker; a restarted seeder serves again from its resume
data; a dozen viewers in a row, more than libtorrent takes offers from per announce, all
find the seeder; the web seed alone serves a browser when no peer is reachable. Each transfer is
checked byte for byte (SHA-256). Runs in the private network namespace of scripts/test.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import libtorrent as lt
import pytest
from playwright.sync_api import BrowserContext

from tests.support.browser import BrowserPeer
from tests.support.processes import Server, free_port, start_tracker
from tests.support.seeder import SeedRun, add, make_clip, node_download, sha256

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("videos") / "Seeder Test Clip.mp4")


@pytest.fixture(scope="module")
def tracker_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("seed") / "state"


@pytest.fixture(scope="module")
def magnet(video: Path, state: Path, tracker_port: int, tmp_path_factory: pytest.TempPathFactory) -> str:
    content = tmp_path_factory.mktemp("content")
    return add(video, "--tracker", f"ws://127.0.0.1:{tracker_port}/announce", "--state", state, "--content", content)


@pytest.fixture(scope="module")
def tracker(tracker_port: int) -> Iterator[Server]:
    server = start_tracker(tracker_port)
    yield server
    server.stop()


def test_browser_and_node_download_from_seed_run(
    video: Path,
    state: Path,
    magnet: str,
    tracker_port: int,
    browser_a: BrowserPeer,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    # The seeder starts before its tracker is up: the failed announce is retried, not fatal.
    seeder = SeedRun(state, log=tmp_path / "run.log")
    try:
        seeder.wait_for("retrying")
        tracker: Server = request.getfixturevalue("tracker")
        seeder.wait_for(f"announced to {tracker.ws_url}", timeout=90)

        assert browser_a.download(magnet, [tracker.ws_url]) == sha256(video)
        assert node_download(magnet, [tracker.ws_url], tmp_path / "node") == sha256(video)

        status = seeder.status()[video.name]
        assert status["uploaded"] >= video.stat().st_size
        # Both viewers came over WebRTC; the split adds up to what libtorrent sent.
        by_kind = status["upload_by_kind"]
        assert by_kind["webrtc"] >= video.stat().st_size and by_kind["bittorrent"] == by_kind["webseed"] == 0
    finally:
        assert seeder.stop() == 0
    assert "saved resume data for 1 of 1 torrents" in seeder.log


def test_restart_serves_from_resume_data_without_rehashing(
    video: Path,
    state: Path,
    magnet: str,
    tracker: Server,
    browser_b: BrowserPeer,
    tmp_path: Path,
) -> None:
    info_hash = magnet.split("btih:")[1][:40]
    resume = lt.read_resume_data((state / "resume" / f"{info_hash}.resume").read_bytes())
    assert resume.info_hashes.v1 == lt.sha1_hash(bytes.fromhex(info_hash))

    seeder = SeedRun(state, log=tmp_path / "restart.log")
    try:
        seeder.wait_for(f"announced to {tracker.ws_url}")
        assert "from resume data" in seeder.log
        assert "checking the file" not in seeder.log and "rejected" not in seeder.log, "no re-hash"

        # A second Chromium with its own profile: the first keeps the pieces it downloaded.
        assert browser_b.download(magnet, [tracker.ws_url]) == sha256(video)
    finally:
        assert seeder.stop() == 0


def test_viewers_in_a_row_beyond_one_announces_offers_all_find_the_seeder(
    video: Path,
    state: Path,
    magnet: str,
    tracker: Server,
    tmp_path: Path,
) -> None:
    # libtorrent takes 10 relayed offers per announce (max_webtorrent_offers) and drops the
    # rest until it announces again, 120 s later, unless the seeder renews them.
    seeder = SeedRun(state, log=tmp_path / "viewers.log")
    try:
        seeder.wait_for(f"announced to {tracker.ws_url}")
        for viewer in range(12):
            assert node_download(magnet, [tracker.ws_url], tmp_path / f"viewer-{viewer}", timeout=30) == sha256(video)
    finally:
        assert seeder.stop() == 0


# Downloads a .torrent in a webtorrent client of its own that uses web seeds, with no
# tracker: the peer page's client has web seeds off, and metadata cannot come from one.
_WEB_SEED_DOWNLOAD = """async ([torrentBase64, timeoutMs]) => {
  const { default: WebTorrent } = await import('/webtorrent.min.js')
  const client = new WebTorrent({ dht: false, lsd: false, utPex: false, tracker: false })
  const bytes = Uint8Array.from(atob(torrentBase64), c => c.charCodeAt(0))
  const torrent = client.add(bytes, { announce: [] })
  const warnings = []
  torrent.on('warning', w => warnings.push(String(w)))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(
      `timed out at ${torrent.progress}: ${torrent.urlList} ${torrent.wires.length} wires, ${warnings}`)), timeoutMs)
    torrent.on('error', reject)
    torrent.on('done', () => { clearTimeout(timer); resolve() })
  })
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await torrent.files[0].arrayBuffer()))
  return {
    sha256: Array.from(digest, b => b.toString(16).padStart(2, '0')).join(''),
    wires: torrent.wires.map(wire => wire.type),
    urlList: torrent.urlList
  }
}"""


def test_web_seed_alone_serves_a_browser(
    state: Path,
    _chromium_a: BrowserContext,
    peer_site: str,
    tmp_path: Path,
) -> None:
    video = make_clip(tmp_path / "web seed only.mp4", seconds=4)
    webseed_port = free_port()
    # The only tracker is a closed port, so no peer can ever be found.
    content = tmp_path / "content"
    add(
        video,
        "--tracker",
        f"ws://127.0.0.1:{free_port()}/announce",
        "--webseed",
        f"http://127.0.0.1:{webseed_port}/",
        "--state",
        state,
        "--content",
        content,
    )
    torrent = (content / "web-seed-only.torrent").read_bytes()

    seeder = SeedRun(state, "--webseed-port", str(webseed_port), log=tmp_path / "webseed.log")
    page = BrowserPeer.open(_chromium_a, peer_site).page
    try:
        seeder.wait_for(f"web seed on http://127.0.0.1:{webseed_port}/")
        seeder.wait_for(f"seeding {video.name}")
        result = page.evaluate(_WEB_SEED_DOWNLOAD, [base64.b64encode(torrent).decode(), 60_000])

        assert result["sha256"] == sha256(video)
        assert result["urlList"] == [f"http://127.0.0.1:{webseed_port}/web%20seed%20only.mp4"]
        assert result["wires"] and set(result["wires"]) == {"webSeed"}
        status = seeder.status_once(video.name, lambda s: s["upload_by_kind"]["webseed"] > 0)
        assert status["uploaded"] == 0  # libtorrent itself sent nothing
        assert status["upload_by_kind"] == {"webrtc": 0, "bittorrent": 0, "webseed": video.stat().st_size}
    finally:
        page.close()
        assert seeder.stop() == 0
