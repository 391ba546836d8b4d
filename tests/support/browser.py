"""Debian Chromium driven by Playwright, and the WebTorrent peer page running in it.

Each browser gets a fresh profile, so no piece store, service worker or permission
leaks between runs. The flags and the camera/microphone grant come from the field
notes: without the grant Chromium offers no 127.0.0.1 ICE candidate in a loopback-only
network namespace.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import BrowserContext, Page, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
]


@contextmanager
def chromium(
    playwright: Playwright, executable: str = CHROMIUM, args: Sequence[str] = CHROMIUM_FLAGS
) -> Iterator[BrowserContext]:
    """One Chromium with its own throwaway profile (``executable`` may be a wrapper, as netsim's)."""
    with tempfile.TemporaryDirectory(prefix="videoswarm-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=list(args),
            permissions=["camera", "microphone"],
        )
        try:
            yield context
        finally:
            context.close()


@dataclass(frozen=True)
class Seeded:
    """What a seeding peer hands to the others."""

    info_hash: str
    magnet_uri: str
    torrent: bytes


class BrowserPeer:
    """A tab running ``pages/peer.html``: one webtorrent client."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @classmethod
    def open(cls, context: BrowserContext, site_url: str) -> BrowserPeer:
        page = context.new_page()
        page.goto(f"{site_url}/peer.html")
        page.wait_for_function("window.peerReady === true", timeout=10_000)
        return cls(page)

    def seed(self, data: bytes, name: str, announce: Sequence[str]) -> Seeded:
        """Seed ``data``; returns once a tracker has answered the seeder's announce."""
        result = self.page.evaluate(
            "([data, name, announce]) => window.seedBytes(data, name, announce)",
            [base64.b64encode(data).decode(), name, list(announce)],
        )
        return Seeded(result["infoHash"], result["magnetURI"], base64.b64decode(result["torrentFile"]))

    def download(self, torrent: str | bytes, announce: Sequence[str], timeout: float = 40) -> str:
        """Download a magnet URI or .torrent; returns the SHA-256 hex of the file's bytes."""
        torrent_id = torrent if isinstance(torrent, str) else base64.b64encode(torrent).decode()
        return self.page.evaluate(
            "([id, announce, ms]) => window.download(id, announce, ms)",
            [torrent_id, list(announce), int(timeout * 1000)],
        )

    def close(self) -> None:
        self.page.close()
