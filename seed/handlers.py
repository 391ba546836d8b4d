"""The seeder's answers to libtorrent alerts, each a handler on the session's alert bus
(:meth:`seed.session.Seeder.subscribe`): tracker back-off, the offer quota, resume data.

Each owns its own state and touches the session only through the handles it is given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import libtorrent as lt

from videoswarm_content.schemes import is_websocket

if TYPE_CHECKING:
    from .session import Seeder

log = logging.getLogger("seed")

RETRY_FIRST = 10.0
RETRY_MAX = 300.0
#: How libtorrent's torrent log shows an offer a WebSocket tracker relayed to us.
_RELAYED_OFFER = ("WEBSOCKET_TRACKER_READ", '"offer":{')


def info_hash_of(alert: lt.torrent_alert) -> str:
    return str(alert.handle.info_hashes().v1)


def reannounce(handle: lt.torrent_handle, which: Callable[[str], bool]) -> None:
    """Announce now to the torrent's trackers whose URL ``which`` accepts, minimum interval or not."""
    for index, entry in enumerate(handle.trackers()):
        if which(entry["url"]):
            handle.force_reannounce(0, index, lt.reannounce_flags_t.ignore_min_interval)


class TrackerBackoff:
    """A tracker error is shown as the torrent's problem and retried by the seeder itself, 10 s
    then doubling up to 5 min: libtorrent 2.1 does not retry a ``ws://`` tracker whose first
    connection failed for many minutes (measured: not within 75 s)."""

    def __init__(self, seeder: Seeder) -> None:
        self._seeder = seeder
        self._announced: set[tuple[str, str]] = set()
        #: (info hash, tracker URL) -> (when to announce again, the delay that led there).
        self._retries: dict[tuple[str, str], tuple[float, float]] = {}
        seeder.subscribe(lt.tracker_error_alert, self._error)
        seeder.subscribe(lt.tracker_reply_alert, self._reply)

    def _error(self, alert: lt.tracker_error_alert) -> None:
        info_hash, name = info_hash_of(alert), self._seeder.name_of(alert)
        if name is None:
            return
        problem = f"tracker {alert.tracker_url()}: {alert.error.message() or alert.message()}; retrying"
        if self._seeder.problems.get(info_hash) != problem:
            log.info(f"{name}: {problem}")
        self._seeder.problems[info_hash] = problem
        key = (info_hash, alert.tracker_url())
        self._announced.discard(key)
        delay = min(self._retries.get(key, (0, RETRY_FIRST / 2))[1] * 2, RETRY_MAX)
        self._retries[key] = (time.monotonic() + delay, delay)

    def _reply(self, alert: lt.tracker_reply_alert) -> None:
        info_hash, name = info_hash_of(alert), self._seeder.name_of(alert)
        if name is None:
            return
        key = (info_hash, alert.tracker_url())
        self._retries.pop(key, None)
        if key not in self._announced:
            self._announced.add(key)
            log.info(f"{name}: announced to {alert.tracker_url()}")
        if self._seeder.problems.get(info_hash, "").startswith(f"tracker {alert.tracker_url()}:"):
            del self._seeder.problems[info_hash]

    def retry(self) -> None:
        """Announce again to the trackers whose delay has passed (called between alerts)."""
        now = time.monotonic()
        for (info_hash, url), (due, delay) in list(self._retries.items()):
            handle = self._seeder.handles.get(info_hash)
            if handle is None:
                del self._retries[(info_hash, url)]
                continue
            if now < due:
                continue
            self._retries[(info_hash, url)] = (float("inf"), delay)  # until the outcome is known
            reannounce(handle, url.__eq__)


class OfferQuota:
    """libtorrent 2.1.1 takes at most ``max_webtorrent_offers`` (10) relayed offers per torrent
    between two of its WebSocket announces and drops the rest until the next one, 120 s later:
    the eleventh viewer in two minutes waited that long for a first peer. So once half of that
    quota is used, announce again, which renews it. The offers are counted in libtorrent's
    torrent log, the only place where they show."""

    def __init__(self, seeder: Seeder) -> None:
        self._seeder = seeder
        #: Offers relayed to each torrent since its last WebSocket announce.
        self._offers: dict[str, int] = {}
        self._refresh_at = max(1, seeder.session.get_settings()["max_webtorrent_offers"] // 2)
        seeder.subscribe(lt.torrent_log_alert, self._log)
        seeder.subscribe(lt.tracker_announce_alert, self._announce)

    def _log(self, alert: lt.torrent_log_alert) -> None:
        info_hash = info_hash_of(alert)
        handle = self._seeder.handles.get(info_hash)
        if handle is None or not all(part in alert.log_message() for part in _RELAYED_OFFER):
            return
        self._offers[info_hash] = self._offers.get(info_hash, 0) + 1
        if self._offers[info_hash] == self._refresh_at:  # once: the announce resets the count
            reannounce(handle, is_websocket)

    def _announce(self, alert: lt.tracker_announce_alert) -> None:
        if is_websocket(alert.tracker_url()):
            self._offers.pop(info_hash_of(alert), None)  # libtorrent renews the quota with each announce


class ResumeSaver:
    """Writes the resume data libtorrent sends, so a restart skips hashing."""

    def __init__(self, seeder: Seeder) -> None:
        self._seeder = seeder
        self._pending = 0
        self._failed = 0
        seeder.subscribe(lt.save_resume_data_alert, self._saved)
        seeder.subscribe(lt.save_resume_data_failed_alert, self._not_saved)

    def save(self, timeout: float, only_if_modified: bool) -> int:
        """Ask for resume data of every torrent and write what arrives within ``timeout``;
        returns how many torrents' resume data could not be written (0 is success)."""
        flags = lt.save_resume_flags_t.only_if_modified if only_if_modified else 0
        for handle in self._seeder.handles.values():
            handle.save_resume_data(flags)
            self._pending += 1
        self._failed = 0
        deadline = time.monotonic() + timeout
        while self._pending > 0 and time.monotonic() < deadline:
            self._seeder.pump(0.1)
        failed = self._failed + self._pending
        self._pending = 0
        return failed

    def _saved(self, alert: lt.save_resume_data_alert) -> None:
        self._pending -= 1
        info_hash, name = info_hash_of(alert), self._seeder.name_of(alert)
        if name is None:
            return
        try:
            self._seeder.state.write_resume(info_hash, lt.write_resume_data_buf(alert.params))
        except OSError as error:
            self._failed += 1
            log.info(f"cannot write resume data for {name}: {error.strerror} (the previous resume data is kept)")

    def _not_saved(self, alert: lt.save_resume_data_failed_alert) -> None:
        self._pending -= 1  # e.g. nothing changed, with only_if_modified
