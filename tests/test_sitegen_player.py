"""The built site in Chromium, fed by the libtorrent seeder (``seed run``) through our tracker.

Runs inside a loopback-only network namespace (see scripts/test). Each test gets its
own Chromium profile, so no service worker or piece store carries over.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, Playwright

from seed.webseed import WebSeed
from tests.support.browser import chromium
from tests.support.fixtures import tracker_fixture
from tests.support.processes import Server
from tests.support.seeder import SeedRun, add
from tests.support.site import add_video, build_site, make_video, wait_playing, wait_true, write_config
from tests.support.static import StaticSite

#: Collects every Content-Security-Policy violation of the page and its frames.
RECORD_CSP_VIOLATIONS = """
window.cspViolations = []
document.addEventListener('securitypolicyviolation',
  e => window.cspViolations.push(`${e.effectiveDirective} ${e.blockedURI}`))
"""


@dataclass
class Swarm:
    site: Path
    site_url: str
    magnet: str
    slug: str


own_tracker = tracker_fixture()


@pytest.fixture(scope="module")
def swarm(own_tracker: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Swarm]:
    """A built site with two videos that ``seed run`` seeds, served on 127.0.0.1.

    The seeder is the real one, not a bare libtorrent session: this module opens the
    videos many times within one announce interval, more viewers than libtorrent 2.1
    takes offers for between announces, which ``seed run`` works around.
    """
    root = tmp_path_factory.mktemp("player")
    content, state = root / "content", root / "state"
    magnet = add(
        make_video(root / "media" / "clip.mp4"), "--tracker", own_tracker.ws_url, "--state", state, "--content", content
    )
    add(
        make_video(root / "media" / "short.mp4", seconds=3),
        "--tracker",
        own_tracker.ws_url,
        "--state",
        state,
        "--content",
        content,
    )
    site = build_site(content, root / "site", write_config(root / "mkdocs.yml", [own_tracker.ws_url]))
    seeder = SeedRun(state, log=root / "seed.log")
    try:
        for name in ("clip.mp4", "short.mp4"):
            seeder.wait_for(f"{name}: announced to {own_tracker.ws_url}")
        with StaticSite(site) as server:
            yield Swarm(site, server.url, magnet, "clip")
    finally:
        assert seeder.stop() == 0


def test_video_page_plays(page: Page, swarm: Swarm) -> None:
    page.goto(f"{swarm.site_url}/{swarm.slug}/")
    wait_playing(page)
    assert page.evaluate("window.videoswarm.player.torrent.progress") > 0
    assert page.locator(".vs-stats").inner_text().endswith("/s")


def test_two_tabs_play_different_videos(playwright: Playwright, swarm: Swarm) -> None:
    """Each tab's <video> requests are answered by that tab's own torrent, not the other's."""
    with chromium(playwright) as context:
        first, second = context.new_page(), context.new_page()
        first.goto(f"{swarm.site_url}/clip/")
        second.goto(f"{swarm.site_url}/short/")
        wait_playing(first)
        wait_playing(second)
        durations = [round(tab.evaluate("document.querySelector('video').duration")) for tab in (first, second)]
        assert durations == [6, 3]


def test_share_snippet_plays_from_another_origin(
    playwright: Playwright, page: Page, swarm: Swarm, tmp_path: Path
) -> None:
    page.goto(f"{swarm.site_url}/share/")
    page.fill(".vs-share-magnet", swarm.magnet)
    page.click(".vs-share-form button[type=submit]")
    wait_playing(page)
    snippet = page.locator(".vs-snippet").input_value()
    assert snippet.startswith(f'<iframe src="{swarm.site_url}/embed/#magnet:?xt=urn:btih:')
    assert 'allow="autoplay; fullscreen"' in snippet

    # A third-party page on another origin (localhost, not 127.0.0.1) pastes the snippet,
    # opened in a second Chromium: the embed must fetch the video itself.
    (tmp_path / "host.html").write_text(f"<!doctype html><title>Someone's blog</title><p>Look:</p>{snippet}")
    with StaticSite(tmp_path) as host, chromium(playwright) as other:
        visitor = other.new_page()
        visitor.goto(host.url.replace("127.0.0.1", "localhost") + "/host.html")
        embed = visitor.wait_for_selector("iframe").content_frame()
        assert embed is not None
        wait_playing(embed)
        assert embed.url.startswith(f"{swarm.site_url}/embed/#magnet:")


def test_embed_says_so_without_webrtc(page: Page, swarm: Swarm) -> None:
    page.add_init_script("delete window.RTCPeerConnection")
    page.goto(f"{swarm.site_url}/embed/#{swarm.magnet}")
    message = page.locator(".vs-message")
    message.wait_for(state="visible")
    assert "WebRTC" in message.inner_text()


def test_embed_says_no_peers_yet(page: Page, swarm: Swarm, own_tracker: Server) -> None:
    nobody = f"magnet:?xt=urn:btih:{'ab' * 20}&tr={own_tracker.ws_url}"
    page.goto(f"{swarm.site_url}/embed/#{nobody}")
    page.wait_for_function("window.videoswarm?.player?.message.startsWith('No peers yet')", timeout=20_000)
    assert page.locator(".vs-message").is_visible()


def test_plays_from_a_web_seed_alone(page: Page, own_tracker: Server, tmp_path: Path) -> None:
    """No peer has this video, but its magnet's ws= web seed does: the <video> plays it over HTTP at once."""
    video = make_video(tmp_path / "media" / "lonely.mp4")
    web_seed = WebSeed(port=0)
    web_seed.update({video.name: video})
    web_seed.start()
    try:
        content = tmp_path / "content"
        content.mkdir()
        web_seed_url = f"http://127.0.0.1:{web_seed.port}/{video.name}"
        add_video(content, "lonely", video, [own_tracker.ws_url], web_seeds=[web_seed_url])
        site = build_site(content, tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [own_tracker.ws_url]))
        with StaticSite(site) as server:
            page.goto(f"{server.url}/lonely/")
            wait_playing(page)
            assert page.evaluate("window.videoswarm.player.mode") == "http", "HTTP first, from the web seed"
            assert page.evaluate("document.querySelector('video').currentSrc") == web_seed_url
    finally:
        web_seed.stop()


def test_index_shows_live_peers(page: Page, swarm: Swarm) -> None:
    """The list scrapes the tracker over WebSocket: the seeder is counted."""
    page.goto(f"{swarm.site_url}/")
    label = page.locator(".vs-item:has(a[href$='clip/']) .vs-peers")
    label.wait_for(state="visible", timeout=20_000)
    count = int(label.inner_text().split()[1])
    assert count >= 1 and label.inner_text().endswith("now")


def test_plays_under_the_recommended_csp(playwright: Playwright, swarm: Swarm) -> None:
    """Served with the policy the build wrote to csp.txt, the video page and the embed still play."""
    csp = (swarm.site / "csp.txt").read_text().strip()
    scripts = next(d for d in csp.split("; ") if d.startswith("script-src ")).split()[1:]
    assert scripts[0] == "'self'" and all(s.startswith("'sha256-") for s in scripts[1:]), "no unsafe-*"
    with StaticSite(swarm.site, {"Content-Security-Policy": csp}) as strict, chromium(playwright) as context:
        context.add_init_script(RECORD_CSP_VIOLATIONS)
        video, embed = context.new_page(), context.new_page()
        video.goto(f"{strict.url}/{swarm.slug}/")
        wait_playing(video)
        embed.goto(f"{strict.url}/embed/#{swarm.magnet}")
        wait_playing(embed)
        for tab in (video, embed):
            assert tab.evaluate("window.cspViolations") == []
        # The policy bites: an inline script of our own is refused.
        video.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'
                                   document.body.append(s) }""")
        wait_true(video, "window.cspViolations.length > 0")
        assert video.evaluate("window.ran") is None


def test_share_page_shows_a_magnet_only_as_text(page: Page, swarm: Swarm) -> None:
    """Markup hidden (percent-encoded) inside a valid magnet stays text everywhere it shows."""
    evil = (
        "%22%3E%3Cimg%20src%3Dx%20onerror%3D%22window.injected%3D1%22%3E%3Cscript%3Ewindow.injected%3D2%3C%2Fscript%3E"
    )
    magnet = f"{swarm.magnet}&dn={evil}"
    page.goto(f"{swarm.site_url}/share/")
    page.fill(".vs-share-magnet", magnet)
    page.click(".vs-share-form button[type=submit]")
    wait_playing(page)
    snippet = page.locator(".vs-snippet").input_value()
    assert snippet.count("<") == 2 and "<img" not in snippet and "<script" not in snippet, snippet
    assert page.evaluate("window.injected") is None
    assert page.locator("img[src=x], .vs-share-result script").count() == 0


@pytest.mark.parametrize(
    "magnet",
    [
        'magnet:?xt=urn:btih:1234"><img src=x onerror="window.injected=1">',
        f"magnet:?xt=urn:btih:{'ab' * 20}&tr=javascript%3Awindow.injected%3D1",
        f"magnet:?xt=urn:btih:{'ab' * 20}&ws=data%3Atext%2Fhtml%2C%3Cscript%3E",
        f"magnet:?xt=urn:btih:{'ab' * 20}&xt=urn:btih:{'cd' * 20}",
        "javascript:window.injected=1//magnet:?xt=urn:btih:" + "ab" * 20,
    ],
    ids=["markup", "javascript tracker", "data web seed", "two hashes", "javascript url"],
)
def test_share_and_embed_refuse_a_bad_magnet(page: Page, swarm: Swarm, magnet: str) -> None:
    page.goto(f"{swarm.site_url}/share/")
    page.fill(".vs-share-magnet", magnet)
    page.click(".vs-share-form button[type=submit]")
    error = page.locator(".vs-share-error")
    error.wait_for(state="visible")
    assert "magnet link" in error.inner_text()
    assert page.locator(".vs-share-result").is_hidden()

    page.goto(f"{swarm.site_url}/embed/#{magnet}")
    page.wait_for_function("window.videoswarm?.player?.status === 'error'")
    assert "magnet link" in page.locator(".vs-message").inner_text()
    assert page.evaluate("window.injected") is None
    assert page.locator("img[src=x]").count() == 0
