"""libtorrent 2.1 peers for tests: torrent making, a loopback-only session, waiting.

libtorrent is the seeder Videoswarm ships, and it speaks both the HTTP tracker protocol
(TCP peers) and the WebTorrent one (WebRTC peers). A ``LibtorrentPeer`` is one session,
so two of them in one test are two distinct peers.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

import libtorrent as lt

_ALERTS = (
    lt.alert_category.error
    | lt.alert_category.status
    | lt.alert_category.tracker
    | lt.alert_category.connect
    | lt.alert_category.peer
    | lt.alert_category.storage
)

_TEST_SETTINGS = {
    "listen_interfaces": "127.0.0.1:0",
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    # TCP only, so an HTTP-tracker transfer is a plain BitTorrent connection.
    "enable_incoming_utp": False,
    "enable_outgoing_utp": False,
    # The default STUN server is on the internet.
    "webtorrent_stun_server": "",
    # Every peer in a test is 127.0.0.1.
    "allow_multiple_connections_per_ip": True,
    "announce_to_all_trackers": True,
    "announce_to_all_tiers": True,
    # Bounds how long closing a session waits for its "stopped" announces.
    "stop_tracker_timeout": 1,
    "alert_mask": _ALERTS,
}


def make_torrent(path: Path, trackers: Sequence[str]) -> bytes:
    """A v1 .torrent for one file: browsers' webtorrent does not implement BEP 52."""
    ct = lt.create_torrent(lt.list_files(str(path)), flags=lt.create_torrent.v1_only)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    lt.set_piece_hashes(ct, str(path.parent))
    return lt.bencode(ct.generate())


def info_hash(torrent: bytes) -> bytes:
    """The torrent's 20-byte v1 info hash."""
    return lt.torrent_info(torrent).info_hashes().v1.to_bytes()


class LibtorrentPeer:
    """One libtorrent session bound to 127.0.0.1, with DHT, LSD and port mapping off."""

    def __init__(self) -> None:
        self.session = lt.session(_TEST_SETTINGS)
        self._log: deque[str] = deque(maxlen=40)
        self._seen: set[tuple[type[lt.alert], str]] = set()
        self._wait(lambda: self.session.listen_port() != 0, "listening", 10)

    @property
    def port(self) -> int:
        return self.session.listen_port()

    def seed(self, torrent: bytes, save_path: Path) -> lt.torrent_handle:
        """Seed a torrent whose file is already in ``save_path``."""
        return self._add(lt.torrent_info(torrent), save_path, lt.torrent_flags.seed_mode)

    def download(self, torrent: bytes, save_path: Path) -> lt.torrent_handle:
        """Start downloading a torrent (from the trackers it names) into ``save_path``."""
        return self._add(lt.torrent_info(torrent), save_path, 0)

    def wait_announced(self, handle: lt.torrent_handle, timeout: float = 10) -> None:
        """Wait for a tracker's reply, so peers that start later will be told about us."""
        self._wait_alert(lt.tracker_reply_alert, handle, timeout)

    def wait_finished(self, handle: lt.torrent_handle, timeout: float = 40) -> None:
        """Wait until every piece is downloaded, verified and written to the file.

        A piece counts as verified once hashed, possibly before libtorrent's disk thread
        has written it out, so the file is read only after a cache flush completes.
        """
        self._wait(
            lambda: handle.status().is_seeding, "the download to finish", timeout, lambda: _describe(handle.status())
        )
        handle.flush_cache()
        self._wait_alert(lt.cache_flushed_alert, handle, timeout)

    def close(self) -> None:
        """Shut the session down now, announcing ``stopped``, not whenever it is collected."""
        del self.session

    def _add(self, info: lt.torrent_info, save_path: Path, flags: int) -> lt.torrent_handle:
        params = lt.add_torrent_params()
        params.ti = info
        params.save_path = str(save_path)
        params.flags = (params.flags | flags) & ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
        return self.session.add_torrent(params)

    def _wait_alert(self, kind: type[lt.alert], handle: lt.torrent_handle, timeout: float) -> None:
        key = (kind, str(handle.info_hashes().v1))
        self._wait(lambda: key in self._seen, f"{kind.__name__} for {key[1]}", timeout)

    def _wait(
        self, done: Callable[[], bool], what: str, timeout: float, detail: Callable[[], str] = lambda: ""
    ) -> None:
        """Pump alerts until ``done()``; on timeout fail with the recent alerts."""
        deadline = time.monotonic() + timeout
        while True:
            self._pump()
            if done():
                return
            if time.monotonic() > deadline:
                alerts = "\n  ".join(self._log) or "(none)"
                raise TimeoutError(f"libtorrent: waited {timeout} s for {what} {detail()}\nrecent alerts:\n  {alerts}")
            self.session.wait_for_alert(100)

    def _pump(self) -> None:
        for alert in self.session.pop_alerts():
            self._log.append(f"{type(alert).__name__}: {alert.message()}")
            if isinstance(alert, lt.torrent_alert):
                self._seen.add((type(alert), str(alert.handle.info_hashes().v1)))


def _describe(status: lt.torrent_status) -> str:
    return (
        f"(state {status.state}, progress {status.progress:.2f}, peers {status.num_peers}, "
        f"tracker {status.current_tracker!r})"
    )
