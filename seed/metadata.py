"""A magnet-only feed item's ``.torrent``, made from the metadata its peers send (BEP 9).

Bare metadata (the info dictionary) names no tracker and no web seed, so the ``.torrent``
gets the magnet's ``tr=`` and ``ws=``: the download needs them. It is then checked like a
fetched one (:func:`seed.feed.check_torrent`), so the mirror treats both alike.

This runs on the mirror's feed thread, in a private libtorrent session (the seeder's is the
main thread's alone). Each magnet is added in upload mode, so no piece is downloaded, all of
a poll's magnets at once, and removed once its metadata arrived or the time is up. The
session then sits idle, with no torrent, until the next poll: it lives as long as the mirror
because libtorrent 2.1.1's session destructor can wait forever for a WebSocket tracker that
never answered (see ``seed.run.end``), which would stall every later poll.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import libtorrent as lt
from fastbencode import Bencached, bencode

from videoswarm_content.magnet import Magnet

from .feed import FeedError, Torrent, check_torrent

#: Seconds a magnet's peers have to send its metadata, by default; tried again at the next poll.
TIMEOUT = 60.0


class Metadata:
    """Fetches magnets' metadata in a session of its own, one batch at a time."""

    def __init__(self, listen: str, stun_server: str | None, timeout: float, save_path: Path) -> None:
        """``listen`` is the seeder's: the same interfaces are used, on ports the system picks."""
        self.timeout = timeout
        self._save_path = save_path
        self._settings: dict[str, object] = {
            "listen_interfaces": ",".join(f"{item.rpartition(':')[0]}:0" for item in listen.split(",")),
            "enable_dht": False,
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_outgoing_utp": False,
            "allow_multiple_connections_per_ip": True,
            "announce_to_all_trackers": True,
            "announce_to_all_tiers": True,
            "alert_mask": lt.alert.category_t.status_notification,
        }
        if stun_server is not None:
            self._settings["webtorrent_stun_server"] = stun_server
        self._session: lt.session | None = None
        self._pending: dict[str, tuple[Magnet, lt.torrent_handle]] = {}
        self._refused: dict[str, Torrent | FeedError] = {}

    def start(self, magnets: Sequence[Magnet]) -> None:
        """Ask the swarms of ``magnets`` for their metadata; :meth:`collect` gets the results."""
        if self._session is None:
            self._session = lt.session(self._settings)  # type: ignore[call-overload]  # the binding takes a dict too
        self._save_path.mkdir(parents=True, exist_ok=True)
        for magnet in magnets:
            if magnet.info_hash in self._pending:
                continue
            try:
                params = lt.parse_magnet_uri(magnet.uri)
                params.save_path = str(self._save_path)  # nothing is written: upload mode, no piece
                params.flags |= lt.torrent_flags.upload_mode
                params.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed
                self._pending[magnet.info_hash] = (magnet, self._session.add_torrent(params))
            except (RuntimeError, ValueError) as error:  # torf took a link that libtorrent does not
                self._refused[magnet.info_hash] = FeedError(f"libtorrent cannot use its magnet link ({error})")

    def collect(self, closing: threading.Event) -> dict[str, Torrent | FeedError]:
        """Wait up to the timeout for the metadata of what :meth:`start` asked for, by info hash."""
        results, self._refused = self._refused, {}
        session = self._session
        if session is None:
            return results
        waiting = dict(self._pending)
        deadline = time.monotonic() + self.timeout
        while waiting and not closing.is_set() and (left := deadline - time.monotonic()) > 0:
            session.wait_for_alert(int(min(left, 0.5) * 1000) + 1)
            for alert in session.pop_alerts():
                if isinstance(alert, lt.metadata_received_alert):
                    done = waiting.pop(str(alert.handle.info_hashes().v1), None)
                    info = done[1].torrent_file() if done is not None else None
                    if done is not None and info is not None:
                        results[done[0].info_hash] = _torrent(done[0], info)
        for magnet, handle in self._pending.values():
            session.remove_torrent(handle)
            results.setdefault(magnet.info_hash, FeedError(f"no peer sent its metadata within {self.timeout:g} s"))
        self._pending.clear()
        return results


def _torrent(magnet: Magnet, info: lt.torrent_info) -> Torrent | FeedError:
    """The ``.torrent``: the info dictionary exactly as received (so the same info hash), the
    magnet's trackers (one tier each, as ``seed add`` writes them) and its web seeds."""
    torrent: dict[bytes, object] = {b"info": Bencached(info.info_section())}
    if magnet.trackers:
        torrent[b"announce"] = magnet.trackers[0].encode()
        torrent[b"announce-list"] = [[url.encode()] for url in magnet.trackers]
    if magnet.web_seeds:
        torrent[b"url-list"] = [url.encode() for url in magnet.web_seeds]
    try:
        # Its trackers and web seeds are the magnet's, checked when the feed was read (seed.feed._video).
        return check_torrent(bencode(torrent), "the metadata its peers sent", magnet.info_hash, allow_private=True)
    except FeedError as error:
        return error
