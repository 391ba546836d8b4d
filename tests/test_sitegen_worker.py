"""The built site's player and service worker in Chromium, with no peer at all.

What a viewer sees when nothing can play: an address of the worker's stream opened as a
page, and a torrent with no file a browser plays. Runs inside a loopback-only network
namespace (scripts/test); the tracker address is closed, so no peer ever comes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.support.libtorrent_peer import info_hash
from tests.support.site import add_video, build_site, wait_true, write_config
from tests.support.static import StaticSite

TRACKER = "ws://127.0.0.1:9/announce"


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A site with a video whose torrent holds only an .mkv file (its bytes are never played)."""
    root = tmp_path_factory.mktemp("worker")
    film = root / "media" / "film.mkv"
    film.parent.mkdir()
    film.write_bytes(bytes(range(256)) * 1024)
    (root / "content").mkdir()
    add_video(root / "content", "film", film, [TRACKER])
    site = build_site(root / "content", root / "site", write_config(root / "mkdocs.yml", [TRACKER]))
    with StaticSite(site) as server:
        yield server.url


def test_player_says_a_torrent_has_no_playable_video(page: Page, site_url: str) -> None:
    """The player plays what ``seed add`` calls playable (videoswarm_content.entry.PLAYABLE_EXTENSIONS)."""
    page.goto(f"{site_url}/film/")
    wait_true(page, "window.videoswarm && window.videoswarm.player.status === 'error'")
    assert page.evaluate("window.videoswarm.player.message") == (
        "This torrent has no video a browser plays (.mp4, .m4v, .webm, .ogv)."
    )


def test_stream_address_opened_as_a_page_is_a_404(page: Page, site_url: str) -> None:
    page.goto(f"{site_url}/film/")
    wait_true(page, "navigator.serviceWorker.controller !== null")
    hash_hex = info_hash(page.request.get(f"{site_url}/film/film.torrent").body()).hex()
    response = page.goto(f"{site_url}/webtorrent/{hash_hex}/film.mkv", timeout=20_000)
    assert response is not None and response.status == 404
    assert "open the video's page instead" in page.inner_text("body")
