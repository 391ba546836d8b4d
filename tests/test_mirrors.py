"""Mirrors: the site's feeds, ``seed follow`` and the mirroring ``seed run``, with real parts.

A publisher adds videos (``seed add``), builds the site with ``site_url`` and runs an origin
``seed run`` with a web seed; a volunteer runs ``seed follow <site>`` and ``seed run`` on
another state directory. Everything runs on loopback inside the test network namespace:
our tracker (WebSocket for browsers, HTTP for libtorrent peers, which cannot reach each
other over WebRTC there), the static site server, both seeders and Chromium.
"""

from __future__ import annotations

import datetime
import html
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import feedparser
import frontmatter
import httpx
import pytest
import torf
import yaml
from fastbencode import bdecode, bencode
from playwright.sync_api import Playwright

from seed.mirror.mirror import REMOVED_SWEEP
from seed.torrent import make_torrent
from seed.webseed import WebSeed
from tests.support.browser import chromium
from tests.support.processes import Server, free_port, start_tracker
from tests.support.seeder import SEED, SeedRun, add, make_clip, seed, sha256
from tests.support.site import build_site, make_video, run_sitegen, wait_playing, write_config
from tests.support.static import StaticSite
from tests.test_seed_reliability import SmallDisk
from videoswarm_content.magnet import parse_magnet

TORRENT = "application/x-bittorrent"


def site_config(path: Path, trackers: list[str], site_url: str | None, **options: object) -> Path:
    """The project's mkdocs.yml for a test, with ``site_url`` and extra plugin options."""
    write_config(path, trackers)
    config = yaml.safe_load(path.read_text())
    if site_url:
        config["site_url"] = site_url
    config["plugins"][0]["videoswarm"].update(options)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def refused(done: object, message: str) -> None:
    """One ``seed: error:`` line naming the problem, exit 1, no traceback."""
    assert done.returncode == 1, done.stderr  # type: ignore[attr-defined]
    errors = [line for line in done.stderr.splitlines() if line.startswith("seed: error:")]  # type: ignore[attr-defined]
    assert len(errors) == 1 and message in errors[0], done.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in done.stderr  # type: ignore[attr-defined]


@dataclass
class Origin:
    root: Path
    content: Path
    site: Path
    url: str
    config: Path
    tracker: Server
    seeder: SeedRun
    videos: dict[str, Path]


@pytest.fixture(scope="module")
def origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Origin]:
    """Two videos, added with the origin's web seed, on a site served at its site_url."""
    root = tmp_path_factory.mktemp("origin")
    tracker = start_tracker()
    trackers = [tracker.ws_url, f"{tracker.http_url}/announce"]
    content, state, site = root / "content", root / "state", root / "site"
    web_seed_port = free_port()
    videos = {
        "clip": make_clip(root / "media" / "clip.mp4", seconds=4),
        "short": make_video(root / "media" / "short.mp4", seconds=2),
    }
    for video in videos.values():
        add(
            video,
            *[a for url in trackers for a in ("--tracker", url)],
            "--webseed",
            f"http://127.0.0.1:{web_seed_port}/",
            "--state",
            state,
            "--content",
            content,
        )
    for name, date in (("clip", datetime.date(2024, 5, 2)), ("short", datetime.date(2024, 5, 1))):
        entry = frontmatter.load(content / f"{name}.md")
        entry["date"] = date
        (content / f"{name}.md").write_text(frontmatter.dumps(entry) + "\n")
    site.mkdir()
    seeder = SeedRun(state, "--webseed-port", str(web_seed_port), log=root / "origin.log")
    try:
        with StaticSite(site) as server:
            config = site_config(root / "mkdocs.yml", [tracker.ws_url], server.url + "/")
            build_site(content, site, config)
            yield Origin(root, content, site, server.url, config, tracker, seeder, videos)
    finally:
        seeder.stop()
        tracker.stop()


def test_feeds_validate(origin: Origin) -> None:
    rss = feedparser.parse(httpx.get(f"{origin.url}/feed.xml").content)
    assert rss.version == "rss20" and not rss.bozo, rss.get("bozo_exception")
    assert [item.link for item in rss.entries] == [f"{origin.url}/clip/", f"{origin.url}/short/"], "newest first"
    for item in rss.entries:
        assert item.title and item.description and item.published
        [enclosure] = item.enclosures
        assert enclosure.type == TORRENT
        torrent = httpx.get(enclosure.href).content
        assert int(enclosure.length) == len(torrent), "BEP 36: the length is the .torrent's size"
        magnet = parse_magnet(item.torrent_magneturi)
        assert torf.Torrent.read_stream(torrent).infohash == magnet.info_hash == item.torrent_infohash
        assert magnet.trackers and magnet.web_seeds

    feed = httpx.get(f"{origin.url}/feed.json").json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and feed["feed_url"] == f"{origin.url}/feed.json"
    assert len(feed["items"]) == 2
    for item in feed["items"]:
        assert item["id"] and ("content_html" in item or "content_text" in item)
        [attachment] = item["attachments"]
        assert attachment["url"] and attachment["mime_type"] == TORRENT
        torrent = httpx.get(attachment["url"]).content
        assert attachment["size_in_bytes"] == len(torrent)
        assert torf.Torrent.read_stream(torrent).infohash == item["id"].removeprefix("urn:btih:")

    for page in ("", "clip/", "share/"):
        html = httpx.get(f"{origin.url}/{page}").text
        assert (
            f'<link rel="alternate" type="application/rss+xml" title="Test videos" href="{origin.url}/feed.xml">'
            in html
        )
        assert f'type="application/feed+json" title="Test videos" href="{origin.url}/feed.json"' in html


def test_feed_limit_and_no_feed_without_site_url(origin: Origin, tmp_path: Path) -> None:
    limited = build_site(
        origin.content,
        tmp_path / "limited",
        site_config(tmp_path / "limited.yml", [], "https://v.example.org/", feed_limit=1),
    )
    assert len(json.loads((limited / "feed.json").read_text())["items"]) == 1
    assert len(feedparser.parse((limited / "feed.xml").read_bytes()).entries) == 1

    done = run_sitegen(
        "build",
        "--content",
        origin.content,
        "--out",
        tmp_path / "plain",
        "-f",
        site_config(tmp_path / "plain.yml", [], None),
    )
    assert done.returncode == 0, done.stderr
    assert "no site_url in mkdocs.yml, so no feed.xml or feed.json" in done.stderr
    assert not (tmp_path / "plain" / "feed.xml").exists() and not (tmp_path / "plain" / "feed.json").exists()
    assert 'rel="alternate"' not in (tmp_path / "plain" / "clip" / "index.html").read_text()


def test_listed_mirrors_are_in_the_magnet_and_the_url_list(origin: Origin, tmp_path: Path) -> None:
    mirrors = ["https://mirror-one.example.org/", "https://mirror-two.example.net/videos"]
    site = build_site(
        origin.content,
        tmp_path / "site",
        site_config(tmp_path / "mkdocs.yml", [], "https://v.example.org/", mirrors=mirrors),
    )
    original = (origin.content / "clip.torrent").read_bytes()
    published = (site / "clip" / "clip.torrent").read_bytes()
    expected = ["https://mirror-one.example.org/clip.mp4", "https://mirror-two.example.net/videos/clip.mp4"]

    url_list = [url.decode() for url in bdecode(published)[b"url-list"]]
    assert url_list[-2:] == expected and len(url_list) == 3, "the origin's web seed, then each mirror"
    assert bdecode(published)[b"info"] == bdecode(original)[b"info"]
    assert torf.Torrent.read_stream(published).infohash == torf.Torrent.read_stream(original).infohash

    [item] = [i for i in json.loads((site / "feed.json").read_text())["items"] if i["url"].endswith("/clip/")]
    magnet = parse_magnet(item["external_url"])
    assert [unquote(url) for url in magnet.web_seeds[-2:]] == expected
    assert magnet.info_hash == torf.Torrent.read_stream(original).infohash
    assert f"ws={expected[0].replace(':', '%3A').replace('/', '%2F')}" in (site / "clip" / "index.html").read_text()


def follow_and_run(origin: Origin, state: Path, log: Path) -> SeedRun:
    done = seed("follow", "--allow-private", f"{origin.url}/", "--state", state)
    assert done.returncode == 0, done.stderr
    assert f"following 127.0.0.1: {origin.url}/feed.xml lists 2 videos" in done.stderr
    listed = seed("follow", "--list", "--state", state)
    assert listed.stdout.split()[:2] == ["127.0.0.1", f"{origin.url}/feed.xml"]
    return SeedRun(state, "--follow-interval", "1", "--mirror-grace", "3", log=log)


def test_a_follower_mirrors_the_site_and_plays_it_alone(origin: Origin, playwright: Playwright) -> None:
    mirror = follow_and_run(origin, origin.root / "mirror-state", origin.root / "mirror.log")
    try:
        for name in ("clip.mp4", "short.mp4"):
            mirror.wait_for(f"mirror: 127.0.0.1: {name} complete and checked", timeout=90)
        status = mirror.status()
        assert {status[n]["state"] for n in ("clip.mp4", "short.mp4")} == {"seeding"}
        assert status["clip.mp4"]["source"] == "127.0.0.1" and status["clip.mp4"]["progress"] == 1.0
        [copy] = (origin.root / "mirror-state" / "mirror" / "data").glob("*/clip.mp4")
        assert sha256(copy) == sha256(origin.videos["clip"])
        report = json.loads(seed("status", "--json", "--state", mirror.state).stdout)
        assert report["subscriptions"][0]["mirrored"] == 2 and report["subscriptions"][0]["problem"] == ""
        # The pieces came from the swarm over BitTorrent (the origin counts what it uploaded to peers),
        # and maybe some from the origin's web seed too.
        deadline = time.monotonic() + 10
        while origin.seeder.status()["clip.mp4"]["uploaded"] == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert origin.seeder.status()["clip.mp4"]["uploaded"] > 0

        assert origin.seeder.stop() == 0  # the origin and its web seed are gone: only the mirror has the video
        with chromium(playwright) as context:
            page = context.new_page()
            page.goto(f"{origin.url}/clip/")
            wait_playing(page)
            assert page.evaluate("window.videoswarm.player.torrent.progress") > 0

        # The publisher removes a video and rebuilds: it leaves the mirror after the grace period.
        (origin.content / "short.md").unlink()
        build_site(origin.content, origin.site, origin.config)
        mirror.wait_for("mirror: short.mp4 left the feed of 127.0.0.1", timeout=30)
        assert "short.mp4" in mirror.status(), "kept during the grace period"
        mirror.wait_for("mirror: 127.0.0.1: dropping short.mp4", timeout=30)
        assert not list((mirror.state / "mirror" / "data").glob("*/short.mp4"))
        assert "short.mp4" not in mirror.status() and mirror.status()["clip.mp4"]["state"] == "seeding"
        assert origin.videos["short"].exists(), "the publisher's own file is not the mirror's to delete"
    finally:
        assert mirror.stop() == 0
    # A restart resumes from resume data: no download, no re-check of every piece.
    again = SeedRun(mirror.state, "--follow-interval", "1", log=origin.root / "mirror-again.log")
    try:
        again.wait_for(": seeding (from 127.0.0.1)", timeout=30)
        assert again.status()["clip.mp4"]["state"] == "seeding"
        assert "mirror: 127.0.0.1: seeding clip.mp4 again" in again.log
        assert "downloading clip.mp4" not in again.log and "checking the file" not in again.log
    finally:
        assert again.stop() == 0


# --- Bad input and faults ---


def rss_feed(items: list[tuple[str, str | None]]) -> str:
    """A hand-written RSS 2.0 feed, as other sites write them: (title, .torrent URL, magnet link
    (as ``<torrent:magnetURI>``) or None) per item."""
    body = "".join(
        f"<item><title>{title}</title><link>https://elsewhere.example.org/{n}</link>"
        + (
            f"<torrent:magnetURI>{html.escape(url)}</torrent:magnetURI>"
            if url and url.startswith("magnet:")
            else f'<enclosure url="{url}" length="1" type="{TORRENT}"/>'
            if url
            else ""
        )
        + "</item>"
        for n, (title, url) in enumerate(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0" xmlns:torrent="http://xmlns.ezrss.it/0.1/">'
        f"<channel><title>Bad</title>{body}</channel></rss>"
    )


@dataclass
class BadSite:
    url: str
    media: Path
    web_seed: WebSeed


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BadSite]:
    """A site whose feed lists one good video among every kind of bad item.

    The good and the too-large videos are served by a web seed; nobody has the data of
    the one whose torrent names a file ``../../escape.mp4``.
    """
    root = tmp_path_factory.mktemp("bad")
    media, pages = root / "media", root / "pages"
    pages.mkdir()
    good = make_video(media / "good.mp4", seconds=2)
    large = make_clip(media / "large.mp4", seconds=3)
    nowhere = media / "nowhere.mp4"
    nowhere.write_bytes(bytes(range(256)) * 400)
    web_seed = WebSeed(port=0)
    web_seed.update({"good.mp4": good, "large.mp4": large})
    web_seed.start()
    base = f"http://127.0.0.1:{web_seed.port}/"
    (pages / "good.torrent").write_bytes(make_torrent(good, [], [base + "good.mp4"], progress=False))
    (pages / "large.torrent").write_bytes(make_torrent(large, [], [base + "large.mp4"], progress=False))
    escape = bdecode(make_torrent(nowhere, [], progress=False))
    escape[b"info"][b"name"] = b"../../escape.mp4"
    (pages / "escape.torrent").write_bytes(bencode(escape))
    (pages / "bad.torrent").write_bytes(b"d8:announce4:nopee")
    (pages / "index.html").write_text("<!doctype html><title>No feed here</title><p>Just a page.")
    (pages / "garbage.xml").write_text("<rss><channel><item><title>unclosed")
    try:
        with StaticSite(pages) as server:
            (pages / "feed.xml").write_text(
                rss_feed(
                    [
                        ("Good", f"{server.url}/good.torrent"),
                        ("Missing", f"{server.url}/missing.torrent"),
                        ("Broken", f"{server.url}/bad.torrent"),
                        ("Large", f"{server.url}/large.torrent"),
                        ("Escape", f"{server.url}/escape.torrent"),
                        ("Plain", None),
                    ]
                )
            )
            yield BadSite(server.url, media, web_seed)
    finally:
        web_seed.stop()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (None, "cannot fetch the feed"),
        ("/", "is a web page with no feed link"),
        ("/garbage.xml", "is not an RSS, Atom or JSON feed"),
        ("/nope.xml", "the feed answered HTTP 404"),
    ],
    ids=["unreachable", "no feed", "malformed feed", "missing feed"],
)
def test_follow_refuses_what_is_not_a_feed(bad_site: BadSite, tmp_path: Path, path: str | None, message: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/" if path is None else bad_site.url + path
    done = seed("follow", "--allow-private", url, "--state", tmp_path / "state")
    refused(done, message)
    assert not (tmp_path / "state" / "follow").exists() or not any((tmp_path / "state" / "follow").iterdir())


def test_bad_items_are_reported_and_block_nothing(bad_site: BadSite, tmp_path: Path) -> None:
    state = tmp_path / "state"
    done = seed(
        "follow", "--allow-private", f"{bad_site.url}/feed.xml", "--max-size", "500K", "--name", "bad", "--state", state
    )
    assert done.returncode == 0, done.stderr
    assert "lists 6 videos" in done.stderr
    mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "mirror.log")
    try:
        mirror.wait_for("mirror: bad: good.mp4 complete and checked", timeout=60)
        mirror.wait_for("not mirroring 'Plain'")
        status = mirror.status()
        assert status["good.mp4"]["state"] == "seeding" and status["good.mp4"]["source"] == "bad"
        problems = {name: t["problem"] for name, t in status.items() if t["state"] == "not mirrored"}
        assert "missing.torrent: its .torrent answered HTTP 404" in problems["Missing"]
        assert "bad.torrent is not a valid .torrent" in problems["Broken"]
        assert problems["Large"].startswith("larger than --max-size 500kB")
        assert "gives no .torrent" in problems["Plain"]
        for title in ("Missing", "Broken", "Large", "Plain"):
            assert mirror.log.count(f"not mirroring {title!r}") == 1, "one line each, not one per poll"

        # Nobody has this one's data: it waits at 0 % without holding up the others, inside the state directory.
        [waiting] = [t for name, t in status.items() if name.endswith("escape.mp4")]
        assert waiting["state"] == "downloading" and waiting["progress"] == 0 and waiting["source"] == "bad"
        assert all(
            state / "mirror" / "data" / waiting["info_hash"] in path.parents for path in tmp_path.rglob("*escape*")
        ), "the torrent's name cannot leave its folder"
        assert "Traceback" not in mirror.log and mirror.proc.poll() is None
        text = seed("status", "--state", state).stdout
        assert f"following bad ({bad_site.url}/feed.xml): 6 listed, 1 mirrored, 1 downloading" in text
    finally:
        assert mirror.stop() == 0
    refused(seed("unfollow", "elsewhere", "--state", state), "not following 'elsewhere'")
    assert "no longer following bad" in seed("unfollow", "bad", "--state", state).stderr
    assert seed("follow", "--list", "--state", state).stdout == ""


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 1 MiB tmpfs, as in test_seed_reliability."""
    disk = SmallDisk(tmp_path / "disk")
    yield disk
    disk.close()


def test_a_full_disk_is_reported_and_its_partial_data_not_kept(
    bad_site: BadSite, small_disk: SmallDisk, tmp_path: Path
) -> None:
    """Two videos of about 0.55 MB on a 1 MiB disk: each fits, both do not."""
    pages = tmp_path / "pages"
    pages.mkdir()
    base = f"http://127.0.0.1:{bad_site.web_seed.port}/"
    files = {
        name: make_video(tmp_path / "media" / f"{name}.mp4", seconds=1, size="640x360", noisy=True)
        for name in ("first", "second")
    }
    bad_site.web_seed.update({**{f"{n}.mp4": p for n, p in files.items()}})
    for name, path in files.items():
        (pages / f"{name}.torrent").write_bytes(make_torrent(path, [], [base + path.name], progress=False))
    state = small_disk.inside / "state"
    with StaticSite(pages) as server:
        (pages / "feed.xml").write_text(rss_feed([(n, f"{server.url}/{n}.torrent") for n in files]))
        done = small_disk.run(
            SEED, "follow", "--allow-private", f"{server.url}/feed.xml", "--name", "site", "--state", state
        )
        assert done.returncode == 0, done.stderr
        mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "mirror.log", prefix=small_disk.prefix)
        try:
            mirror.wait_for("No space left on device", timeout=60)
            mirror.wait_for("complete and checked", timeout=60)
            report = json.loads(small_disk.run(SEED, "status", "--json", "--state", state).stdout)
            states = {t["name"]: (t["state"], t["problem"]) for t in report["torrents"]}
            [(done_name, _)] = [(n, s) for n, (s, _) in states.items() if s == "seeding"]
            [(failed, problem)] = [(n, p) for n, (s, p) in states.items() if s == "not mirrored"]
            assert "space" in problem, states
            data = small_disk.outside / "state" / "mirror" / "data"
            deadline = time.monotonic() + 15
            while [p.name for p in data.glob("*/*")] != [done_name] and time.monotonic() < deadline:
                time.sleep(0.25)
            assert [p.name for p in data.glob("*/*")] == [done_name], "the partial file was deleted"
            # libtorrent runs a removed torrent's queued disk jobs after removing it: the file must not come back.
            time.sleep(REMOVED_SWEEP + 1)
            assert [p.name for p in data.glob("*/*")] == [done_name], "the partial file stays deleted"
            assert mirror.proc.poll() is None and "Traceback" not in mirror.log
        finally:
            assert mirror.stop() == 0


# --- Items that give only a magnet link ---


def test_a_magnet_only_item_is_mirrored_with_metadata_from_its_peers(tmp_path: Path) -> None:
    """The feed gives no .torrent: the mirror gets the metadata from the origin (found through the
    magnet's HTTP tracker, over TCP), then downloads and seeds the video as usual."""
    tracker = start_tracker()
    video = make_clip(tmp_path / "media" / "magnet.mp4", seconds=3)
    origin_state = tmp_path / "origin"
    uri = add(video, "--tracker", f"{tracker.http_url}/announce", "--state", origin_state, "--content", tmp_path / "c")
    origin = SeedRun(origin_state, log=tmp_path / "origin.log")
    mirror: SeedRun | None = None
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "feed.xml").write_text(rss_feed([("Magnet only", uri)]))
    try:
        origin.wait_for(f"magnet.mp4 {parse_magnet(uri).info_hash[:8]}: seeding")
        with StaticSite(pages) as server:
            state = tmp_path / "mirror"
            started = time.monotonic()
            done = seed("follow", "--allow-private", f"{server.url}/feed.xml", "--name", "magnets", "--state", state)
            assert done.returncode == 0, done.stderr
            assert "lists 1 video, 0.00B, 1 of unknown size, 1 by magnet link only" in done.stderr
            mirror = SeedRun(state, "--follow-interval", "1", log=tmp_path / "mirror.log")
            mirror.wait_for("mirror: magnets: magnet.mp4 complete and checked", timeout=120)
            took = time.monotonic() - started
            print(f"seed follow to seeding, magnet only ({video.stat().st_size} bytes): {took:.1f} s")
            status = mirror.status_once("magnet.mp4", lambda s: s["state"] == "seeding")
            assert status["state"] == "seeding" and status["source"] == "magnets"
            assert status["info_hash"] == parse_magnet(uri).info_hash
            [copy] = (state / "mirror" / "data").glob("*/magnet.mp4")
            assert sha256(copy) == sha256(video)
            kept = bdecode((state / "mirror" / f"{status['info_hash']}.torrent").read_bytes())
            assert kept[b"announce-list"] == [[f"{tracker.http_url}/announce".encode()]], "the magnet's tr="
            assert "Traceback" not in mirror.log
    finally:
        if mirror is not None:
            assert mirror.stop() == 0
        assert origin.stop() == 0
        tracker.stop()


def test_a_magnet_whose_metadata_never_arrives_blocks_nothing(tmp_path: Path) -> None:
    """Nobody seeds the magnet; the good item's .torrent has a web seed."""
    pages = tmp_path / "pages"
    pages.mkdir()
    good = make_video(tmp_path / "media" / "good.mp4", seconds=2)
    web_seed = WebSeed(port=0)
    web_seed.update({"good.mp4": good})
    web_seed.start()
    torrent = make_torrent(good, [], [f"http://127.0.0.1:{web_seed.port}/good.mp4"], progress=False)
    (pages / "good.torrent").write_bytes(torrent)
    state = tmp_path / "state"
    with StaticSite(pages) as server:
        (pages / "feed.xml").write_text(
            rss_feed(
                [
                    ("Nobody", f"magnet:?xt=urn:btih:{'ab' * 20}&dn=nobody.mp4"),
                    ("Good", f"{server.url}/good.torrent"),
                    ("Bad magnet", "magnet:?xt=urn:btih:nothex"),
                ]
            )
        )
        done = seed("follow", "--allow-private", f"{server.url}/feed.xml", "--name", "magnets", "--state", state)
        assert done.returncode == 0, done.stderr
        assert "lists 3 videos" in done.stderr and "1 by magnet link only" in done.stderr
        mirror = SeedRun(state, "--follow-interval", "1", "--metadata-timeout", "2", log=tmp_path / "mirror.log")
        try:
            mirror.wait_for("mirror: magnets: good.mp4 complete and checked", timeout=60)
            mirror.wait_for("not mirroring 'Nobody': no peer sent its metadata within 2 s")
            # Polls go on every second: still one line, and the problem stays in the status.
            mirror.wait_for("mirror: magnets: not mirroring 'Bad magnet': its magnet link is not usable")
            time.sleep(5)
            report = json.loads(seed("status", "--json", "--state", state).stdout)
            states = {t["name"]: (t["state"], t["problem"]) for t in report["torrents"]}
            assert states["good.mp4"][0] == "seeding"
            assert states["Nobody"] == ("not mirrored", "no peer sent its metadata within 2 s")
            assert states["Bad magnet"][0] == "not mirrored"
            assert mirror.log.count("not mirroring 'Nobody'") == 1, "one line, not one per poll"
            assert "Traceback" not in mirror.log and mirror.proc.poll() is None
            assert not (state / "mirror" / f"{'ab' * 20}.json").exists()
        finally:
            assert mirror.stop() == 0
            web_seed.stop()


def test_follow_counts_the_magnet_only_items_of_a_json_feed(tmp_path: Path) -> None:
    """A JSON Feed attachment or ``url`` that is a magnet link; a size only when the magnet gives ``xl=``."""
    pages = tmp_path / "pages"
    pages.mkdir()
    items = [
        {"id": "1", "title": "Attached", "attachments": [{"url": f"magnet:?xt=urn:btih:{'1' * 40}&xl=1000"}]},
        {"id": "2", "title": "Linked", "url": f"magnet:?xt=urn:btih:{'2' * 40}&dn=linked.mp4"},
    ]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Magnets", "items": items}
    (pages / "feed.json").write_text(json.dumps(feed))
    with StaticSite(pages) as server:
        done = seed("follow", "--allow-private", f"{server.url}/feed.json", "--state", tmp_path / "state")
    assert done.returncode == 0, done.stderr
    assert "lists 2 videos, 0.98kB, 1 of unknown size, 2 by magnet link only" in done.stderr
