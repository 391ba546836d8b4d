"""Real clients move real bytes through the tracker under test.

Chromium runs webtorrent 2.8.5, libtorrent 2.1 is the seeder Videoswarm ships, and each
test checks the downloaded file's SHA-256 against the source. WebRTC needs a private
network namespace, or ICE wanders off to the machine's other interfaces:

    unshare -n sh -c 'ip link set lo up && exec .venv/bin/pytest tests/test_real_clients.py'
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import struct
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastbencode import bdecode

from tests.support.browser import BrowserPeer
from tests.support.libtorrent_peer import LibtorrentPeer, info_hash, make_torrent
from tests.support.processes import Server

pytestmark = pytest.mark.timeout(90)

MiB = 1024 * 1024


def random_file(directory: Path, name: str = "clip.bin") -> Path:
    """1-3 MiB of random bytes, an odd size so the last piece is a short one."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(os.urandom(random.randint(1 * MiB, 3 * MiB)))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bare_magnet(torrent: bytes) -> str:
    """A magnet with no trackers in it, so the peer announces only where the test says."""
    return f"magnet:?xt=urn:btih:{info_hash(torrent).hex()}"


def seed_with_libtorrent(peer: LibtorrentPeer, source: Path, announce: str) -> bytes:
    """Seed ``source`` from ``peer`` and wait until the tracker has it; returns the .torrent."""
    torrent = make_torrent(source, [announce])
    peer.wait_announced(peer.seed(torrent, source.parent))
    return torrent


def test_browser_to_browser_across_replicas(
    tracker_replicas: tuple[Server, Server], browser_a: BrowserPeer, browser_b: BrowserPeer, tmp_path: Path
) -> None:
    first, second = tracker_replicas
    source = random_file(tmp_path)

    seeded = browser_a.seed(source.read_bytes(), source.name, [first.ws_url])
    downloaded = browser_b.download(bare_magnet(seeded.torrent), [second.ws_url])

    assert downloaded == sha256(source)


def test_libtorrent_to_browser(
    tracker: Server, browser_a: BrowserPeer, libtorrent_peers: Callable[[], LibtorrentPeer], tmp_path: Path
) -> None:
    source = random_file(tmp_path / "seed")
    torrent = seed_with_libtorrent(libtorrent_peers(), source, tracker.ws_url)

    downloaded = browser_a.download(bare_magnet(torrent), [tracker.ws_url])

    assert downloaded == sha256(source)


def test_browser_to_libtorrent(
    tracker: Server, browser_a: BrowserPeer, libtorrent_peers: Callable[[], LibtorrentPeer], tmp_path: Path
) -> None:
    source = random_file(tmp_path / "seed")
    seeded = browser_a.seed(source.read_bytes(), source.name, [tracker.ws_url])

    leecher = libtorrent_peers()
    leecher.wait_finished(leecher.download(seeded.torrent, tmp_path / "leech"))

    assert sha256(tmp_path / "leech" / source.name) == sha256(source)


def test_http_tracker_between_libtorrent_peers(
    tracker: Server, libtorrent_peers: Callable[[], LibtorrentPeer], tmp_path: Path
) -> None:
    announce = f"{tracker.http_url}/announce"
    source = random_file(tmp_path / "seed")
    torrent = seed_with_libtorrent(libtorrent_peers(), source, announce)

    leecher = libtorrent_peers()
    leecher.wait_finished(leecher.download(torrent, tmp_path / "leech"))

    assert sha256(tmp_path / "leech" / source.name) == sha256(source)


def test_http_announce_lists_the_seeder_compactly(
    tracker: Server, libtorrent_peers: Callable[[], LibtorrentPeer], tmp_path: Path
) -> None:
    announce = f"{tracker.http_url}/announce"
    seeder = libtorrent_peers()
    torrent = seed_with_libtorrent(seeder, random_file(tmp_path), announce)

    query = urlencode(
        {
            "info_hash": info_hash(torrent),
            "peer_id": b"-VS0001-" + os.urandom(12),
            "port": 6999,
            "uploaded": 0,
            "downloaded": 0,
            "left": 1,
            "compact": 1,
            "event": "started",
        }
    )
    response = httpx.get(f"{announce}?{query}", timeout=5)

    assert response.status_code == 200
    reply = bdecode(response.content)
    peers = reply[b"peers"]
    assert isinstance(peers, bytes) and len(peers) % 6 == 0, reply
    seeder_entry = socket.inet_aton("127.0.0.1") + struct.pack(">H", seeder.port)
    assert seeder_entry in {peers[i : i + 6] for i in range(0, len(peers), 6)}, reply
