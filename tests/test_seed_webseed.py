"""The web seed under abuse (issue 11, finding 2), and the seeder's upload by kind.

``seed run`` runs with ``ulimit -n 1024`` (``prlimit``, soft and hard), as on a default
Linux box, and 1,100 idle TCP connections are opened to its web seed: it keeps running,
still answers a Range request and still seeds over BitTorrent (a real libtorrent client
over TCP, through the project's HTTP tracker). Then a request line past the header cap
gets a 400, and the idle connections are closed by the header timeout.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.support.fixtures import tracker_fixture
from tests.support.libtorrent_peer import LibtorrentPeer
from tests.support.processes import Server, free_port
from tests.support.seeder import SeedRun, add, make_clip, sha256

pytestmark = pytest.mark.timeout(180)
FLOOD = 1_100


tracker = tracker_fixture()


def open_idle(port: int, count: int) -> list[socket.socket]:
    """``count`` connected TCP sockets that never send a byte."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setblocking(False)
        sockets.append(sock)
    return sockets


def closed_by_server(sockets: list[socket.socket]) -> int:
    """How many of ``sockets`` (non-blocking) the server has closed: EOF or reset."""
    return sum(_closed(sock) for sock in sockets)


def _closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_connection_flood_under_ulimit_1024_stops_neither_web_seed_nor_bittorrent(
    tracker: Server,
    tmp_path: Path,
) -> None:
    video = make_clip(tmp_path / "videos" / "flood.mp4", seconds=4)
    state, webseed_port = tmp_path / "state", free_port()
    add(video, "--tracker", f"{tracker.http_url}/announce", "--state", state, "--content", tmp_path / "content")
    seeder = SeedRun(
        state,
        "--webseed-port",
        str(webseed_port),
        log=tmp_path / "run.log",
        prefix=["prlimit", "--nofile=1024:1024", "--"],
    )
    flood: list[socket.socket] = []
    peer = LibtorrentPeer()
    try:
        seeder.wait_for(f"announced to {tracker.http_url}/announce")
        assert "up to 1024 open files (512 web seed connections)" in seeder.log

        flood = open_idle(webseed_port, FLOOD)
        # Past the cap of 512, the longest-idle connections are closed as new ones arrive.
        deadline = time.monotonic() + 30
        while closed_by_server(flood) < FLOOD - 512 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert closed_by_server(flood) >= FLOOD - 512
        assert seeder.proc.poll() is None, seeder.log
        assert len(os.listdir(f"/proc/{seeder.proc.pid}/fd")) < 1024

        # A viewer still gets its range, while the flood's idle connections are still open.
        data = video.read_bytes()
        reply = httpx.get(
            f"http://127.0.0.1:{webseed_port}/flood.mp4", headers={"Range": "bytes=1000-4999"}, timeout=10
        )
        assert reply.status_code == 206 and reply.content == data[1000:5000]

        # And a BitTorrent client over TCP still downloads the whole file.
        torrent = (tmp_path / "content" / "flood.torrent").read_bytes()
        handle = peer.download(torrent, tmp_path / "download")
        peer.wait_finished(handle)
        assert sha256(tmp_path / "download" / "flood.mp4") == sha256(video)

        # A request line past the 8 KiB cap is refused, not buffered.
        with socket.create_connection(("127.0.0.1", webseed_port), timeout=10) as sock:
            sock.sendall(b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 431")

        # Connections that never send a request are closed by the 10 s header timeout.
        deadline = time.monotonic() + 30
        while closed_by_server(flood) < FLOOD and time.monotonic() < deadline:
            time.sleep(0.5)
        assert closed_by_server(flood) == FLOOD

        status = seeder.status()["flood.mp4"]
        assert status["state"] == "seeding"
        assert status["upload_by_kind"]["bittorrent"] >= len(data)
        assert status["upload_by_kind"]["webseed"] >= 4000
        assert status["upload_by_kind"]["webrtc"] == 0
        assert seeder.proc.poll() is None, seeder.log
    finally:
        for sock in flood:
            sock.close()
        peer.close()
        assert seeder.stop() == 0, seeder.log
    assert "Too many open files" not in seeder.log
