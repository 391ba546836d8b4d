"""A followed site the volunteer does not control (issue 23): it cannot delete their files,
take another site's web-seed names, or hold up the other subscriptions.

Each site is a static feed served on loopback with its videos' data on a web seed; the
volunteer's ``seed run`` is a real subprocess.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import torf

from seed.feed import MAX_ITEMS
from seed.torrent import make_torrent
from seed.webseed import WebSeed
from tests.support.processes import free_port
from tests.support.seeder import SeedRun, add, make_clip, seed, sha256
from tests.support.site import make_video
from tests.support.static import StaticSite
from tests.test_mirrors import rss_feed


@dataclass
class Site:
    """One followed site: ``pages/feed.xml`` lists ``items``; the web seed has their files."""

    pages: Path
    server: StaticSite
    web_seed: WebSeed

    def torrent(self, video: Path) -> str:
        """Serve ``video`` on the web seed and its .torrent beside the feed; returns the .torrent's URL."""
        self.web_seed.update({**self.web_seed_files, video.name: video})
        self.web_seed_files[video.name] = video
        data = make_torrent(video, [], [f"http://127.0.0.1:{self.web_seed.port}/{video.name}"], progress=False)
        (self.pages / f"{video.stem}.torrent").write_bytes(data)
        return f"{self.server.url}/{video.stem}.torrent"

    def publish(self, items: list[tuple[str, str | None]]) -> None:
        (self.pages / "feed.xml").write_text(rss_feed(items))

    @property
    def feed(self) -> str:
        return f"{self.server.url}/feed.xml"

    def __post_init__(self) -> None:
        self.web_seed_files: dict[str, Path] = {}


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[list[Site]]:
    """Two independent sites."""
    made: list[Site] = []
    try:
        for n in range(2):
            pages = tmp_path / f"site{n}"
            pages.mkdir()
            server = StaticSite(pages).__enter__()
            web_seed = WebSeed(port=0)
            web_seed.start()
            made.append(Site(pages, server, web_seed))
        yield made
    finally:
        for site in made:
            site.server.__exit__()
            site.web_seed.stop()


def info_hash(torrent_url: str) -> str:
    return str(torf.Torrent.read_stream(httpx.get(torrent_url).content).infohash)


def follow(site: Site, name: str, state: Path) -> None:
    done = seed("follow", "--allow-private", site.feed, "--name", name, "--state", state)
    assert done.returncode == 0, done.stderr


def test_a_feed_cannot_delete_the_volunteers_own_copy(sites: list[Site], tmp_path: Path) -> None:
    """Finding 2: the mirror has video H; the volunteer `seed add`s their own copy of the same
    file and restarts; the feed drops H. Their file stays, and stays seeded."""
    site = sites[0]
    talk = make_video(tmp_path / "origin" / "talk.mp4", seconds=2)
    url = site.torrent(talk)
    site.publish([("Talk", url)])
    state = tmp_path / "state"
    follow(site, "site", state)
    run = ("--follow-interval", "1", "--mirror-grace", "2")
    mirror = SeedRun(state, *run, log=tmp_path / "mirror.log")
    try:
        mirror.wait_for("mirror: site: talk.mp4 complete and checked", timeout=60)
    finally:
        assert mirror.stop() == 0

    mine = tmp_path / "my-videos" / "talk.mp4"
    mine.parent.mkdir()
    shutil.copy2(talk, mine)
    tracker = f"http://127.0.0.1:{free_port()}/announce"
    magnet = add(mine, "--tracker", tracker, "--state", state, "--content", tmp_path / "content")
    assert info_hash(url) in magnet, "the same file: the same info hash"

    again = SeedRun(state, *run, log=tmp_path / "again.log")
    try:
        again.wait_for("mirror: site: not mirroring 'Talk': already seeded (seed add)", timeout=30)
        deadline = time.monotonic() + 10  # status.json is rewritten every second, after the log line
        while not (row := [(t["name"], t["state"]) for t in rows(again) if t["source"] == "site"]):
            assert time.monotonic() < deadline, again.log
            time.sleep(0.2)
        assert row == [("Talk", "already seeded")]
        site.publish([])
        deadline = time.monotonic() + 30
        while any(t["source"] == "site" for t in rows(again)):
            assert time.monotonic() < deadline, again.log
            time.sleep(0.2)
        time.sleep(2 + 2)  # the grace period and a poll more: time for the old code to delete it
        assert mine.exists() and sha256(mine) == sha256(talk), again.log
        status = again.status()["talk.mp4"]
        assert status["state"] == "seeding" and status["source"] == "", status
        assert "Traceback" not in again.log and again.proc.poll() is None
    finally:
        assert again.stop() == 0


def rows(run: SeedRun) -> list[dict[str, object]]:
    """Every row of ``seed status --json``, not only one per name."""
    done = seed("status", "--json", "--state", run.state)
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["torrents"])


def test_two_sites_with_the_same_file_name(sites: list[Site], tmp_path: Path) -> None:
    """Finding 3: both sites list a ``talk.mp4``. The first one mirrored keeps ``/talk.mp4``
    on the web seed, after a restart too, even when the other's info hash sorts first."""
    videos = [make_clip(tmp_path / f"v{n}" / "talk.mp4", seconds=1 + n) for n in range(2)]  # not the same noise
    urls = [site.torrent(video) for site, video in zip(sites, videos, strict=True)]
    hashes = [info_hash(url) for url in urls]
    # The one followed first has the larger hash: the old code served the smaller one after a restart.
    first, second = (0, 1) if hashes[0] > hashes[1] else (1, 0)
    for n in (first, second):
        sites[n].publish([("Talk", urls[n])])
    state = tmp_path / "state"
    follow(sites[first], "first", state)
    port = free_port()
    run = ("--follow-interval", "1", "--webseed-port", str(port))
    mirror = SeedRun(state, *run, log=tmp_path / "mirror.log")
    try:
        mirror.wait_for("mirror: first: talk.mp4 complete and checked", timeout=60)
        follow(sites[second], "second", state)
        mirror.wait_for("mirror: second: not mirroring 'Talk': talk.mp4 is taken by first", timeout=30)
        assert not (state / "mirror" / f"{hashes[second]}.json").exists()
    finally:
        assert mirror.stop() == 0
    again = SeedRun(state, *run, log=tmp_path / "again.log")
    try:
        again.wait_for(": seeding (from first)", timeout=30)
        served = httpx.get(f"http://127.0.0.1:{port}/talk.mp4")
        assert served.status_code == 200 and served.content == videos[first].read_bytes()
        again.wait_for("mirror: second: not mirroring 'Talk': talk.mp4 is taken by first", timeout=30)
    finally:
        assert again.stop() == 0


class FeedServer:
    """A loopback feed server that counts requests by path, with no ETag or Last-Modified (so
    every poll gets the whole feed), and can trickle the feed one byte every 3 s."""

    def __init__(self, feed: str) -> None:
        self.feed = feed.encode()
        self.trickle = False
        self.requests: Counter[str] = Counter()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests[self.path] += 1
                if self.path != "/feed.xml":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(server.feed)))
                self.end_headers()
                if not server.trickle:
                    self.wfile.write(server.feed)
                    return
                for n in range(len(server.feed)):
                    if server.stopping.wait(3):
                        return
                    self.wfile.write(server.feed[n : n + 1])
                    self.wfile.flush()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


def test_a_trickling_feed_does_not_hold_up_another(sites: list[Site], tmp_path: Path) -> None:
    """Finding 5: one byte every 3 s (each read well within the per-read timeout), polled first."""
    slow = FeedServer(rss_feed([("Never", "http://127.0.0.1:1/never.torrent")]))
    honest = sites[0]
    honest.publish([("Good", honest.torrent(make_video(tmp_path / "media" / "good.mp4", seconds=1)))])
    state = tmp_path / "state"
    try:
        assert (
            seed("follow", "--allow-private", f"{slow.url}/feed.xml", "--name", "a-slow", "--state", state).returncode
            == 0
        )
        follow(honest, "b-honest", state)
        slow.trickle = True
        mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "mirror.log")
        try:
            mirror.wait_for("mirror: b-honest: good.mp4 complete and checked", timeout=60)
            assert mirror.proc.poll() is None
        finally:
            assert mirror.stop() == 0
    finally:
        slow.close()


def test_failing_torrent_urls_are_not_fetched_at_every_poll(tmp_path: Path) -> None:
    """Finding 6: a feed at the item cap (1,000: the issue's 3,000 are cut there) whose .torrent URLs answer 404,
    polled every second."""
    items = MAX_ITEMS  # the feed lists one more, which the cap leaves out, saying so once
    server = FeedServer(rss_feed([(f"Item {n}", f"/t/{n}.torrent") for n in range(items + 1)]))
    server.feed = server.feed.replace(b'url="/t/', f'url="{server.url}/t/'.encode())
    state = tmp_path / "state"
    try:
        assert (
            seed("follow", "--allow-private", f"{server.url}/feed.xml", "--name", "many", "--state", state).returncode
            == 0
        )
        mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "mirror.log")
        try:
            mirror.wait_for("mirror: many: and ", timeout=120)
            polls = server.requests["/feed.xml"]
            deadline = time.monotonic() + 60
            while server.requests["/feed.xml"] < polls + 3:
                assert time.monotonic() < deadline and mirror.proc.poll() is None, mirror.log
                time.sleep(0.2)
            fetched = sum(count for path, count in server.requests.items() if path.startswith("/t/"))
            assert fetched <= items, f"{fetched} .torrent requests in {server.requests['/feed.xml']} polls"
            rows = [t for t in json.loads((state / "status.json").read_text())["torrents"]]
            assert len(rows) <= 20 and rows[-1]["name"] == f"and {items - 19} more", rows[-1]
            assert (state / "status.json").stat().st_size < 20_000
            assert mirror.log.count("not mirroring") <= 20
            cap = f"the feed lists {items + 1:,} items; only the first {items:,} are read"
            assert mirror.log.count(cap) == 1, mirror.log
            [sub] = json.loads((state / "status.json").read_text())["subscriptions"]
            assert sub["notice"] == cap
        finally:
            assert mirror.stop() == 0
    finally:
        server.close()
