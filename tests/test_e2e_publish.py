"""End to end: a visitor publishes a video from the browser; another, elsewhere, watches it.

Two separate Chromium instances (own profiles, so nothing is shared but the network):
the publisher picks a file on publish/ and seeds it to our tracker; the viewer pastes
the magnet into share/ and plays it. The tracker then counts both peers. Runs in the
loopback-only network namespace of scripts/test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Playwright

from tests.support.browser import chromium
from tests.support.fixtures import tracker_fixture
from tests.support.processes import Server
from tests.support.site import build_site, make_video, wait_playing, write_config
from tests.support.static import StaticSite

tracker = tracker_fixture("function")


@pytest.fixture
def site_url(tracker: Server, tmp_path: Path) -> Iterator[str]:
    """A site with no videos yet, whose trackers list is our tracker alone."""
    (tmp_path / "content").mkdir()
    site = build_site(tmp_path / "content", tmp_path / "site", write_config(tmp_path / "mkdocs.yml", [tracker.ws_url]))
    with StaticSite(site) as server:
        yield server.url


def wait_for_stats(tracker: Server, done, timeout: float = 20) -> dict:
    """Poll /stats.json until ``done(stats)``; return the last answer either way."""
    deadline = time.monotonic() + timeout
    while True:
        stats = httpx.get(f"{tracker.http_url}/stats.json").json()
        if done(stats) or time.monotonic() > deadline:
            return stats
        time.sleep(0.2)


def test_publish_from_one_browser_play_in_another(
    playwright: Playwright, tracker: Server, site_url: str, tmp_path: Path
) -> None:
    video = make_video(tmp_path / "my holiday.mp4", seconds=4)
    with chromium(playwright) as publisher_browser, chromium(playwright) as viewer_browser:
        publisher = publisher_browser.new_page()
        publisher.goto(f"{site_url}/publish/")
        warning = " ".join(publisher.locator(".vs-warning").inner_text().split())
        assert "only while this window stays open" in warning
        assert publisher.locator(".vs-publish-trackers").input_value() == tracker.ws_url
        publisher.set_input_files(".vs-publish-file", str(video))
        publisher.click(".vs-publish-form button[type=submit]")
        publisher.wait_for_function("document.querySelector('.vs-magnet').value.startsWith('magnet:')", timeout=20_000)
        magnet = publisher.locator(".vs-magnet").input_value()
        assert magnet.startswith("magnet:?xt=urn:btih:") and "holiday.mp4" in magnet
        assert publisher.locator(".vs-share-link").input_value() == f"{site_url}/share/#{magnet}"
        snippet = publisher.locator(".vs-snippet").input_value()
        assert snippet.startswith(f'<iframe src="{site_url}/embed/#magnet:?xt=urn:btih:')

        viewer = viewer_browser.new_page()
        viewer.goto(f"{site_url}/share/")
        viewer.fill(".vs-share-magnet", magnet)
        viewer.click(".vs-share-form button[type=submit]")
        wait_playing(viewer)

        publisher.wait_for_function("window.videoswarm.published.uploaded > 0", timeout=10_000)
        stats_text = publisher.locator(".vs-publish-stats").inner_text()
        assert stats_text.startswith("Seeding: 1 peer · ") and " uploaded" in stats_text

        stats = wait_for_stats(tracker, lambda s: s["seeders"] + s["leechers"] == 2)
        assert stats["torrents"] == 1
        assert stats["seeders"] + stats["leechers"] == 2, stats
        assert stats["seeders"] >= 1, "the publisher is a seeder"
