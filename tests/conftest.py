"""Pytest fixtures shared by the test modules."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright

from tests.support.browser import BrowserPeer, chromium
from tests.support.libtorrent_peer import LibtorrentPeer
from tests.support.processes import Server, start_reference, start_tracker
from tests.support.static import StaticSite

pytest_plugins = ["tests.support.fixtures"]

# --- Real clients: tracker replicas, Chromium and libtorrent (tests/test_real_clients.py) ---
#
# VIDEOSWARM_TRACKER=reference runs the same tests against the npm bittorrent-tracker
# (both "replicas" are then one server), to tell a harness problem from a tracker one.


@pytest.fixture(scope="module")
def tracker_replicas(redis_url: str) -> Iterator[tuple[Server, Server]]:  # noqa: F811
    """Two replicas of the tracker under test that share swarms through one Redis."""
    with ExitStack() as stack:
        if os.environ.get("VIDEOSWARM_TRACKER") == "reference":
            reference = start_reference()
            stack.callback(reference.stop)
            yield reference, reference
            return
        replicas = []
        for _ in range(2):
            replicas.append(start_tracker(redis_url=redis_url))
            stack.callback(replicas[-1].stop)
        yield replicas[0], replicas[1]


@pytest.fixture(scope="module")
def tracker(tracker_replicas: tuple[Server, Server]) -> Server:
    """One tracker replica, for tests that do not care about replication."""
    return tracker_replicas[0]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright for WebRTC tests, which only work in a loopback-only network namespace.

    Module-scoped on purpose: while the sync API is running it marks an event loop as
    running in this thread, and pytest-asyncio tests in later modules would then fail.
    """
    others = [name for _, name in socket.if_nameindex() if name != "lo"]
    if others:
        pytest.fail(
            f"WebRTC tests need a private network namespace, but {others} are up: run "
            "unshare -n sh -c 'ip link set lo up && exec .venv/bin/pytest ...'",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def peer_site() -> Iterator[str]:
    """Base URL of the page that runs a browser WebTorrent peer."""
    with StaticSite() as site:
        yield site.url


@pytest.fixture(scope="module")
def _chromium_a(playwright: Playwright) -> Iterator[BrowserContext]:
    with chromium(playwright) as context:
        yield context


@pytest.fixture(scope="module")
def _chromium_b(playwright: Playwright) -> Iterator[BrowserContext]:
    with chromium(playwright) as context:
        yield context


@pytest.fixture
def browser_a(_chromium_a: BrowserContext, peer_site: str) -> Iterator[BrowserPeer]:
    """A fresh peer tab in the first Chromium (the tab closes after the test)."""
    peer = BrowserPeer.open(_chromium_a, peer_site)
    yield peer
    peer.close()


@pytest.fixture
def browser_b(_chromium_b: BrowserContext, peer_site: str) -> Iterator[BrowserPeer]:
    """A fresh peer tab in a second Chromium with its own profile."""
    peer = BrowserPeer.open(_chromium_b, peer_site)
    yield peer
    peer.close()


@pytest.fixture
def page(playwright: Playwright) -> Iterator[Page]:
    """A tab in a fresh Chromium profile: no service worker or piece store from another test."""
    with chromium(playwright) as context:
        yield context.new_page()


@pytest.fixture
def libtorrent_peers() -> Iterator[Callable[[], LibtorrentPeer]]:
    """Makes libtorrent sessions, each a separate peer, closed after the test."""
    peers: list[LibtorrentPeer] = []

    def make() -> LibtorrentPeer:
        peers.append(LibtorrentPeer())
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()
