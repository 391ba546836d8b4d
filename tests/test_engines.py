"""The built site in Firefox ESR and WebKitGTK, the real engines (tests/support/engines.py).

One site, one ``seed run`` and one browser per engine serve the whole module. The site
has two videos: ``peers`` has no web seed (only the seeder has it, over WebRTC), ``web``
has only a web seed (no peer seeds it) and an English caption track. What each engine
has is asserted as it reports it, so a new Debian build that gains or loses a feature
fails here and the support table in docs/site.md gets updated.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from seed.webseed import WebSeed
from tests.support.engines import ENGINES, Engine, engine
from tests.support.fixtures import tracker_fixture
from tests.support.processes import Server
from tests.support.seeder import SeedRun, add
from tests.support.site import add_video, build_site, magnet_for, make_video, wait_playing, wait_true, write_config
from tests.support.static import StaticSite

CAPTION = "WEBVTT\n\n00:00.000 --> 00:05.000\nHello from the captions\n"

#: What each engine reports (window.videoswarm.player.features), measured here.
FEATURES = {
    "firefox": {"webrtc": True, "serviceWorker": True, "mediaSource": True, "managedMediaSource": False},
    "webkit": {"webrtc": False, "serviceWorker": True, "mediaSource": True, "managedMediaSource": True},
}

FIREFOX_NO_CANDIDATES = "WebRTC: ICE failed, add a STUN server and see about:webrtc for more details"
NO_WEBRTC = "This browser has no WebRTC, so it cannot fetch videos from other viewers."


@dataclass
class Site:
    url: str
    web_magnet: str
    #: Another origin (localhost, not 127.0.0.1) where a test puts a page that embeds ours.
    blog: Path
    blog_url: str


own_tracker = tracker_fixture()


@pytest.fixture(scope="module")
def site(own_tracker: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("engines")
    content, state = root / "content", root / "state"
    seeding = ("--tracker", own_tracker.ws_url, "--state", state, "--content", content)
    add(make_video(root / "media" / "peers.mp4"), *seeding)
    web_video = make_video(root / "media" / "web.mp4")
    web_seed = WebSeed(port=0)
    web_seed.update({web_video.name: web_video})
    web_seed.start()
    seeder = SeedRun(state, log=root / "seed.log")
    try:
        web_seeds = [f"http://127.0.0.1:{web_seed.port}/{web_video.name}"]
        (content / "web.en.vtt").write_text(CAPTION)
        torrent = add_video(
            content,
            "web",
            web_video,
            [own_tracker.ws_url],
            web_seeds=web_seeds,
            captions=[{"src": "web.en.vtt", "lang": "en", "label": "English"}],
        )
        built = build_site(content, root / "site", write_config(root / "mkdocs.yml", [own_tracker.ws_url]))
        seeder.wait_for(f"peers.mp4: announced to {own_tracker.ws_url}")
        blog = root / "blog"
        blog.mkdir()
        with StaticSite(built) as server, StaticSite(blog) as blog_server:
            web_magnet = magnet_for(torrent, web_video.name, [own_tracker.ws_url], web_seeds)
            yield Site(server.url, web_magnet, blog, blog_server.url.replace("127.0.0.1", "localhost"))
    finally:
        assert seeder.stop() == 0
        web_seed.stop()


@pytest.fixture(scope="module", params=ENGINES)
def browser(request: pytest.FixtureRequest, site: Site) -> Iterator[Engine]:
    with engine(request.param, trusted=[site.url, site.blog_url]) as opened:
        yield opened


def player(browser: Engine, key: str) -> object:
    return browser.evaluate(f"window.videoswarm.player.{key}")


def test_index_renders(browser: Engine, site: Site) -> None:
    browser.open(f"{site.url}/")
    links = browser.evaluate("[...document.querySelectorAll('.vs-item a')].map(a => a.getAttribute('href'))")
    assert {link.rstrip("/").rsplit("/", 1)[-1] for link in links} == {"peers", "web"}
    assert browser.errors() == []


def test_web_seed_plays_with_captions(browser: Engine, site: Site) -> None:
    browser.open(f"{site.url}/web/")
    wait_playing(browser)
    assert player(browser, "features") == FEATURES[browser.name]
    if browser.name == "webkit":
        assert player(browser, "mode") == "http-only"
        assert player(browser, "message") == "This browser has no WebRTC: playing from the web seed."
    else:
        assert player(browser, "mode") in ("http", "p2p")
    assert browser.evaluate("document.querySelector('video').currentSrc").startswith("http://127.0.0.1:")
    browser.evaluate("document.querySelector('video').textTracks[0].mode = 'showing'")
    wait_true(browser, "document.querySelector('video').textTracks[0].activeCues?.length > 0")
    assert browser.evaluate("document.querySelector('video').textTracks[0].activeCues[0].text") == (
        "Hello from the captions"
    )
    assert browser.errors() == []


def test_peers_only(browser: Engine, site: Site) -> None:
    """From the seeder over WebRTC where the engine has it; where not, the page says why."""
    browser.open(f"{site.url}/peers/")
    if FEATURES[browser.name]["webrtc"]:
        wait_playing(browser)
        assert player(browser, "mode") == "p2p"
        assert player(browser, "peerAt") is not None
        assert player(browser, "bytes.peers") > 0 and player(browser, "bytes.http") == 0
    else:
        wait_true(browser, "window.videoswarm?.player?.status === 'error'")
        assert player(browser, "message") == NO_WEBRTC + " Try a current Firefox, Chrome or Safari."
    assert browser.errors() == []


def test_embed_plays(browser: Engine, site: Site) -> None:
    browser.open(f"{site.url}/web/embed/")
    wait_playing(browser)
    assert player(browser, "mode") == ("http-only" if browser.name == "webkit" else "http")
    assert browser.errors() == []


def test_share_page_builds_a_working_iframe(browser: Engine, site: Site) -> None:
    """The snippet the share page builds, pasted on another origin (localhost), plays there."""
    browser.open(f"{site.url}/share/")
    browser.evaluate(
        f"""(() => {{ document.querySelector('.vs-share-magnet').value = {site.web_magnet!r}
        document.querySelector('.vs-share-form button[type=submit]').click() }})()"""
    )
    wait_true(browser, "document.querySelector('.vs-snippet').value !== ''")
    snippet = browser.evaluate("document.querySelector('.vs-snippet').value")
    assert snippet.startswith(f'<iframe src="{site.url}/embed/#magnet:?xt=urn:btih:')
    assert browser.errors() == []
    (site.blog / "post.html").write_text(f"<!doctype html><title>Someone's blog</title>{snippet}")
    browser.open(f"{site.blog_url}/post.html")
    wait_playing(browser.frame())
    assert browser.evaluate("location.href", frame=True).startswith(f"{site.url}/embed/#magnet:")
    # Firefox, in a frame from another origin, keeps to the default route's addresses (there is
    # none in the namespace; the camera permission that lifts it is not delegated to frames),
    # and logs each offer's failure. Outside the namespace the default route has one.
    allowed = {FIREFOX_NO_CANDIDATES} if browser.name == "firefox" else set()
    assert set(browser.errors()) <= allowed
