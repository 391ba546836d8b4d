"""The video-site theme: sharing metadata, captions, escaping, and the pages in Chromium.

The build tests read what ``sitegen build`` wrote; the browser tests (in the loopback-only
network namespace of scripts/test) open it in Chromium: a phone-width layout, playback
from the web seed in a browser without WebRTC, and the hand-over from HTTP to peers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.sync_api import Playwright

from seed.webseed import WebSeed
from tests.support.browser import chromium
from tests.support.processes import Server, start_tracker
from tests.support.site import (
    add_video,
    build_site,
    ffmpeg,
    make_video,
    run_sitegen,
    wait_playing,
    wait_true,
    write_config,
)

TRACKER = "ws://127.0.0.1:9/announce"
SITE_URL = "https://videos.example/"
HOSTILE = """</script><script>alert("x")</script><b onmouseover='y'>&amp;"""
CAPTION = "WEBVTT\n\n00:00.000 --> 00:01.500\nHello\n"


class _Head(HTMLParser):
    """Collects a page's <meta>, <link>, <track> tags and the JSON-LD text."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.links: list[dict[str, str]] = []
        self.tracks: list[dict[str, str]] = []
        self.json_ld: list[str] = []
        self._in_ld = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "meta" and "content" in values:
            self.meta[values.get("property") or values.get("name", "")] = values["content"]
        elif tag == "link":
            self.links.append(values)
        elif tag == "track":
            self.tracks.append(values)
        self._in_ld = tag == "script" and values.get("type") == "application/ld+json"

    def handle_data(self, data: str) -> None:
        if self._in_ld:
            self.json_ld.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._in_ld = False


def parse(path: Path) -> _Head:
    head = _Head()
    head.feed(path.read_text())
    return head


def poster(path: Path) -> Path:
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x180",
        "-frames:v",
        "1",
        str(path),
    )
    return path


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_video(tmp_path_factory.mktemp("media") / "clip.mp4", seconds=2)


def content_folder(
    root: Path,
    video: Path,
    title: str = "The clip",
    tag: str = "demo",
    label: str = "English",
    description: str = "A test video.\n",
) -> Path:
    content = root / "content"
    content.mkdir()
    poster(content / "clip.png")
    (content / "clip.en.vtt").write_text(CAPTION)
    add_video(
        content,
        "clip",
        video,
        [TRACKER],
        web_seeds=["https://cdn.example/clip.mp4"],
        title=title,
        poster="clip.png",
        date="2025-03-01",
        duration=125,
        tags=["test", tag],
        captions=[{"src": "clip.en.vtt", "lang": "en", "label": label}],
    )
    if description != "A test video.\n":
        entry = content / "clip.md"
        entry.write_text(entry.read_text().replace("A test video.\n", description))
    return content


def test_sharing_metadata_parses(tmp_path: Path, video: Path) -> None:
    content = content_folder(tmp_path, video)
    site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [TRACKER], site_url=SITE_URL))
    page = parse(site / "clip/index.html")

    meta = page.meta
    assert meta["og:title"] == "The clip" and meta["og:description"] == "A test video."
    assert meta["og:image"] == f"{SITE_URL}clip/poster.png"
    assert (site / "clip/poster.png").read_bytes()[:4] == b"\x89PNG"
    assert meta["og:video"] == f"{SITE_URL}clip/embed/" and meta["og:video:type"] == "text/html"
    assert (meta["og:video:width"], meta["og:video:height"]) == ("640", "360")
    assert meta["twitter:card"] == "player" and meta["twitter:player"] == f"{SITE_URL}clip/embed/"

    (ld_text,) = page.json_ld
    ld = json.loads(ld_text)
    assert ld["@type"] == "VideoObject" and ld["@context"] == "https://schema.org"
    assert ld["name"] == "The clip" and ld["description"] == "A test video."
    assert ld["thumbnailUrl"] == [f"{SITE_URL}clip/poster.png"] and ld["uploadDate"] == "2025-03-01"
    assert ld["duration"] == "PT2M5S" and ld["embedUrl"] == f"{SITE_URL}clip/embed/"

    (discovery,) = [link for link in page.links if link.get("type") == "application/json+oembed"]
    assert discovery["rel"] == "alternate" and discovery["href"] == f"{SITE_URL}clip/oembed.json"
    oembed = json.loads((site / "clip/oembed.json").read_text())
    assert oembed["type"] == "video" and oembed["version"] == "1.0"
    assert (oembed["width"], oembed["height"]) == (640, 360)
    assert oembed["html"].startswith(f'<iframe src="{SITE_URL}clip/embed/"') and oembed["html"].endswith("</iframe>")


def test_caption_tracks_in_page_and_embed(tmp_path: Path, video: Path) -> None:
    content = content_folder(tmp_path, video)
    site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [TRACKER]))
    for page, src in (("clip/index.html", "clip.en.vtt"), ("clip/embed/index.html", "../clip.en.vtt")):
        (track,) = parse(site / page).tracks
        assert track == {"kind": "subtitles", "src": src, "srclang": "en", "label": "English"}, page
    assert (site / "clip/clip.en.vtt").read_text() == CAPTION
    assert not (site / "clip.en.vtt").exists(), "the caption is published next to its page only"


def test_without_site_url_warns_and_leaves_out_absolute_urls(tmp_path: Path, video: Path) -> None:
    content = content_folder(tmp_path, video)
    result = run_sitegen(
        "build",
        "--content",
        content,
        "--out",
        tmp_path / "site",
        "-f",
        write_config(tmp_path / "mkdocs.yml", [TRACKER]),
    )
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2 and "Traceback" not in result.stderr, "no site_url, and no signing key"
    assert "no site_url" in warnings[0] and "site.json is unsigned" in warnings[1]
    page = parse(tmp_path / "site/clip/index.html")
    assert page.meta["og:title"] == "The clip"
    assert not {"og:image", "og:video", "twitter:player", "twitter:card"} & page.meta.keys()
    assert not [link for link in page.links if "oembed" in link.get("type", "")]
    assert not (tmp_path / "site/clip/oembed.json").exists()
    assert json.loads(page.json_ld[0])["name"] == "The clip"


def test_hostile_strings_are_escaped_in_every_output(tmp_path: Path, video: Path) -> None:
    content = content_folder(tmp_path, video, title=HOSTILE, tag=HOSTILE, label=HOSTILE, description=HOSTILE + "\n")
    site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [TRACKER], site_url=SITE_URL))
    outputs = [p for p in site.rglob("*") if p.suffix in (".html", ".json", ".xml")]
    assert len(outputs) >= 10
    for path in outputs:
        text = path.read_text()
        for raw in ("<script>alert", "</script><script>", "<b onmouseover", "<b "):
            assert raw not in text, f"{raw!r} unescaped in {path.relative_to(site)}"
    # Escaped is not lost: the JSON documents and the attributes give the text back as it was.
    page = parse(site / "clip/index.html")
    assert page.meta["og:title"] == HOSTILE and json.loads(page.json_ld[0])["name"] == HOSTILE
    assert page.tracks[0]["label"] == HOSTILE
    oembed = json.loads((site / "clip/oembed.json").read_text())
    assert oembed["title"] == HOSTILE and oembed["html"].count("<") == 2, oembed["html"]
    tag_pages = [p for p in (site / "tags").iterdir() if p.is_dir()]
    assert len(tag_pages) == 2 and all((p / "index.html").is_file() for p in tag_pages)


def test_no_theme_means_ours_and_another_theme_still_works(tmp_path: Path, video: Path) -> None:
    content = content_folder(tmp_path, video)
    ours = build_site(content, tmp_path / "ours", write_config(tmp_path / "ours.yml", [TRACKER]))
    mkdocs_theme = {"name": "mkdocs", "highlightjs": False}
    theirs = build_site(
        content, tmp_path / "theirs", write_config(tmp_path / "theirs.yml", [TRACKER], theme=mkdocs_theme)
    )
    for site in (ours, theirs):
        page = (site / "clip/index.html").read_text()
        assert "<video controls" in page and "<track" in page and 'class="vs-share"' in page
    for name in ("index.html", "clip/index.html", "tags/index.html", "tags/demo/index.html"):
        page = (ours / name).read_text()
        assert 'class="vs-header"' in page and "MkDocs" not in page and "Previous" not in page, name
        assert "<script>" not in page, "no inline script: the CSP needs no hash"
    index = (ours / "index.html").read_text()
    assert 'class="vs-grid"' in index and '<span class="vs-duration">2:05</span>' in index
    assert 'href="../tags/demo/"' in (ours / "clip/index.html").read_text()
    assert "MkDocs" in (theirs / "index.html").read_text(), "mkdocs' own theme, footer and all"


# --- In Chromium ---


@dataclass
class Served:
    url: str
    web_seed: WebSeed


@pytest.fixture
def tracker() -> Iterator[Server]:
    server = start_tracker()
    yield server
    server.stop()


@pytest.fixture
def web_site(tracker: Server, tmp_path: Path) -> Iterator[Served]:
    """A site with one video whose only source is its web seed (no peer seeds it)."""
    from tests.support.static import StaticSite

    video = make_video(tmp_path / "media" / "lonely.mp4")
    web_seed = WebSeed(port=0)
    web_seed.update({video.name: video})
    web_seed.start()
    try:
        content = tmp_path / "content"
        content.mkdir()
        poster(content / "lonely.png")
        add_video(
            content,
            "lonely",
            video,
            [tracker.ws_url],
            title="A lonely video with a rather long title",
            web_seeds=[f"http://127.0.0.1:{web_seed.port}/{video.name}"],
            poster="lonely.png",
            date="2025-03-01",
            duration=6,
            tags=["test"],
        )
        site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [tracker.ws_url]))
        with StaticSite(site) as server:
            yield Served(server.url, web_seed)
    finally:
        web_seed.stop()


def test_phone_width_has_no_sideways_scroll(playwright: Playwright, web_site: Served) -> None:
    with chromium(playwright) as context:
        page = context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        for path in ("/", "/lonely/", "/tags/", "/tags/test/", "/share/", "/publish/"):
            page.goto(web_site.url + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow} px"
        page.goto(web_site.url + "/lonely/")
        width = page.evaluate("document.querySelector('.vs-player video').getBoundingClientRect().width")
        assert width >= 389, f"the video is {width} px wide on a 390 px screen"


def test_plays_from_the_web_seed_without_webrtc(playwright: Playwright, web_site: Served) -> None:
    with chromium(playwright) as context:
        context.add_init_script("delete window.RTCPeerConnection")
        page = context.new_page()
        page.goto(web_site.url + "/lonely/")
        wait_playing(page)
        assert page.evaluate("typeof RTCPeerConnection") == "undefined"
        assert page.evaluate("window.videoswarm.player.mode") == "http-only"
        assert page.evaluate("document.querySelector('video').currentSrc").startswith("http://127.0.0.1:")
        assert "Web seed" in page.locator(".vs-mode").inner_text()

        embed = context.new_page()
        embed.goto(web_site.url + "/lonely/embed/")
        wait_playing(embed)
        assert embed.evaluate("window.videoswarm.player.mode") == "http-only"


def test_share_box_copies(playwright: Playwright, web_site: Served) -> None:
    with chromium(playwright) as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(web_site.url + "/lonely/")
        page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard users
        assert page.evaluate("document.activeElement.className") == "vs-skip"
        wait_true(page, "document.querySelector('.vs-snippet').value !== ''")
        page.click("button[data-copy=vs-embed-code]")
        wait_true(page, "document.querySelector('.vs-copied').textContent !== ''")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert (
            copied == f'<iframe src="{web_site.url}/lonely/embed/" width="640" height="360" '
            'allow="autoplay; fullscreen" allowfullscreen="" frameborder="0"></iframe>'
        )
        page.click("button[data-copy=vs-link]")
        wait_true(page, "document.querySelector('.vs-copied').textContent.startsWith('link')")
        assert page.evaluate("navigator.clipboard.readText()") == f"{web_site.url}/lonely/"


#: The player's figures once its torrent is complete: mode, bytes by source, share from peers.
FIGURES = """() => { const p = window.videoswarm.player
  return {mode: p.mode, peers: p.bytes.peers, http: p.bytes.http, offload: p.offload, progress: p.torrent.progress,
          firstFrameAt: p.firstFrameAt, time: document.querySelector('video').currentTime,
          videos: document.querySelectorAll('video').length,
          figures: document.querySelector('.vs-figures').textContent} }"""


def test_http_first_then_peers_in_two_browsers(playwright: Playwright, tracker: Server, tmp_path: Path) -> None:
    """A web seed starts the video; peers (the seeder, then the first viewer) carry most of the bytes.

    Two Chromium instances with their own profiles open the page one after the other. Each
    starts on the web seed over HTTP, then its player hands over to the torrent on the same
    frame and keeps playing; the offload figure (bytes from peers / all bytes) is printed
    for the record (run with -s).
    """
    from tests.support.seeder import SeedRun, add
    from tests.support.static import StaticSite

    video = make_video(tmp_path / "media" / "long.mp4", seconds=60, noisy=True)
    web_seed = WebSeed(port=0)
    web_seed.update({video.name: video})
    web_seed.start()
    content, state = tmp_path / "content", tmp_path / "state"
    add(
        video,
        "--tracker",
        tracker.ws_url,
        "--state",
        state,
        "--content",
        content,
        "--webseed",
        f"http://127.0.0.1:{web_seed.port}/",
    )
    site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [tracker.ws_url]))
    seeder = SeedRun(state, log=tmp_path / "seed.log")
    try:
        seeder.wait_for(f"long.mp4: announced to {tracker.ws_url}")
        with StaticSite(site) as server, chromium(playwright) as first, chromium(playwright) as second:
            seen = []
            for context in (first, second):
                page = context.new_page()
                page.goto(f"{server.url}/long/")
                wait_true(page, "window.videoswarm.player.mode === 'p2p'")
                wait_true(page, "window.videoswarm.player.torrent.progress === 1")
                wait_playing(page)
                seen.append(page.evaluate(FIGURES))
            print("\nhand-over figures:", json.dumps(seen, indent=1))
            for figures in seen:
                assert figures["videos"] == 1, "the twin <video> replaced the first one"
                assert figures["peers"] >= video.stat().st_size * 0.9, figures
                assert figures["offload"] > 0.5, f"peers carry most of the bytes: {figures}"
                assert "% from peers" in figures["figures"]
    finally:
        assert seeder.stop() == 0
        web_seed.stop()
