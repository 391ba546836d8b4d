"""The libtorrent session that seeds every torrent of a state directory.

One session serves both worlds: libtorrent 2.1 announces to ``ws://``/``wss://``
trackers and answers browsers over WebRTC, and announces to ``http(s)://`` trackers for
TCP/uTP peers. A tracker error is logged and shown in the status, never fatal, and the
seeder retries it itself (10 s, doubling up to 5 min): libtorrent 2.1 does not retry a
``ws://`` tracker whose first connection failed for many minutes (measured: not within 75 s).

Resume data (written on shutdown, and every few minutes while it runs) lets a restart
skip hashing: the torrent starts seeding as soon as libtorrent has checked the file's
size and modification time. A torrent without resume data starts in seed mode, because
``seed add`` has just hashed it; libtorrent then verifies each piece as it first sends it.

A file whose size or modification time differs from what ``seed add`` recorded is not
seeded at all (checked at start and at every rescan): its pieces would no longer match
the torrent. Every torrent is in upload mode, so libtorrent never downloads into, and
never writes to, the publisher's file.

The seeder owns its libtorrent session: nobody else calls ``lt.session``'s methods. Its
users (``seed run``, the mirror) add torrents with an owner (:meth:`Seeder.adopt` for the
mirror's), remove them, read their status, and subscribe handlers to alert types
(:meth:`Seeder.subscribe`): the tracker back-off, the offer quota and resume saving
(seed/handlers.py) and upload sampling (seed/uploads.py) are such handlers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import libtorrent as lt

from .errors import SeedError
from .handlers import OfferQuota, ResumeSaver, TrackerBackoff, info_hash_of
from .state import Record, State
from .status import TorrentStatus
from .uploads import WEBSEED, Peer, UploadCounter, kind_of

_ALERTS = (
    lt.alert_category.error
    | lt.alert_category.status
    | lt.alert_category.tracker
    | lt.alert_category.storage
    | lt.alert_category.torrent_log
    | lt.alert_category.connect
)  # peer_connect_alert: whether a peer came over WebRTC (uploads.py)

log = logging.getLogger("seed")
_Alert = TypeVar("_Alert", bound=lt.alert)

#: Seconds between two samples of each connection's upload (uploads.py).
SAMPLE_UPLOADS_EVERY = 0.25
#: Seconds ``close`` waits for the torrents to pause (the ``stopped`` announces are sent by then).
CLOSE_TIMEOUT = 2.0

_STATES = {
    lt.torrent_status.states.checking_files: "checking",
    lt.torrent_status.states.checking_resume_data: "checking resume data",
    lt.torrent_status.states.downloading: "downloading",
    lt.torrent_status.states.finished: "finished",
    lt.torrent_status.states.seeding: "seeding",
}


@dataclass(frozen=True)
class Download:
    """An adopted torrent's download: bytes verified, the fraction done, whether it is complete, a file error."""

    done: int
    progress: float
    complete: bool
    error: str


@dataclass(frozen=True)
class Options:
    """How ``seed run`` was started; ``stun_server=None`` keeps libtorrent's default."""

    listen: str = "0.0.0.0:6881,[::]:6881"
    stun_server: str | None = None


class Seeder:
    """A libtorrent session kept in step with a state directory."""

    def __init__(self, state: State, options: Options) -> None:
        self.state = state
        settings = {
            "listen_interfaces": options.listen,
            # Viewers behind one NAT share an address, and every test peer is 127.0.0.1.
            "allow_multiple_connections_per_ip": True,
            # Trackers are in tiers of one: announce to every one of them.
            "announce_to_all_trackers": True,
            "announce_to_all_tiers": True,
            # Never queue a seed: every torrent in the state directory is served at once.
            "dont_count_slow_torrents": True,
            "stop_tracker_timeout": 2,
            # A mirror downloads a whole site at once, one connection per torrent to the same origin,
            # and the torrent log of hundreds of torrents overflowed the default queue of 1,000 alerts
            # (measured with 200: "dropped alerts"), losing resume-data and file-error alerts with them.
            # Its downloads connect over TCP: with 200 uTP connections on 2 busy cores, transfers
            # stalled mid-way and the 200 videos took 141 s to mirror, against 62 s over TCP
            # (bench/mirror.py). Incoming uTP from desktop clients is still accepted.
            "connections_limit": 2000,
            "enable_outgoing_utp": False,
            # A mirror's first connection to the origin can fail (measured: 1 run in 3 after a magnet's
            # metadata came from that origin), and libtorrent then waits min_reconnect_time (60 s) before trying again.
            "min_reconnect_time": 5,
            "alert_queue_size": 20000,
            "alert_mask": _ALERTS,
        }
        if options.stun_server is not None:
            settings["webtorrent_stun_server"] = options.stun_server
        try:
            self.session = lt.session(settings)  # type: ignore[call-overload]  # the binding takes a dict too
        except (RuntimeError, KeyError, TypeError) as error:
            raise SeedError(f"cannot start libtorrent: {error}") from None
        self.handles: dict[str, lt.torrent_handle] = {}
        self.records: dict[str, Record] = {}
        #: Torrents not seeded because their file changed or vanished, with the reason.
        self.refused: dict[str, tuple[Record, str]] = {}
        #: Each torrent's last tracker or file error, cleared when it recovers.
        self.problems: dict[str, str] = {}
        #: Session-wide errors already logged: offline, DHT and LSD repeat theirs every few seconds.
        self._session_errors: set[str] = set()
        self._handlers: dict[type, list[Callable[[Any], None]]] = {}
        self.uploads = UploadCounter()
        self._next_sample = 0.0
        #: Torrents that seed/mirror.py added and looks after (sync() leaves them alone),
        #: and those of them still downloading, which the web seed must not serve.
        self.adopted: set[str] = set()
        self.partial: set[str] = set()
        #: The last file error of each torrent (a full disk while downloading is one), for the mirror.
        self.file_errors: dict[str, str] = {}
        #: Info hashes that ``seed add`` recorded, as of the last rescan: the mirror keeps off them.
        self.recorded: set[str] = set()
        self.subscribe(lt.alert, self._session_error)
        self.subscribe(lt.peer_connect_alert, self._connected)
        self.subscribe(lt.state_changed_alert, self._state_changed)
        self.subscribe(lt.fastresume_rejected_alert, self._resume_rejected)
        self.subscribe(lt.file_error_alert, self._file_error)
        self.subscribe(lt.torrent_error_alert, self._file_error)
        self.subscribe(lt.hash_failed_alert, self._hash_failed)
        self._trackers = TrackerBackoff(self)
        self._offers = OfferQuota(self)
        self._resume = ResumeSaver(self)

    def subscribe(self, kind: type[_Alert], handler: Callable[[_Alert], None]) -> None:
        """Call ``handler`` with every alert of type ``kind`` (or a subclass), on the main thread."""
        self._handlers.setdefault(kind, []).append(handler)

    def name_of(self, alert: lt.torrent_alert) -> str | None:
        """The file name of the torrent an alert is about; None if it is not seeded (just removed)."""
        record = self.records.get(info_hash_of(alert))
        return record.name if record else None

    def listen_port(self, timeout: float = 10) -> int:
        """The TCP port libtorrent listens on, once it does."""
        deadline = time.monotonic() + timeout
        while self.session.listen_port() == 0 and time.monotonic() < deadline:
            self.pump(0.05)
        port: int = self.session.listen_port()
        return port

    def sync(self) -> bool:
        """Seed records new to the state directory (or fixed by a new ``seed add``), stop
        seeding removed records and changed files. Returns whether the set of seeded files changed."""
        wanted = self.state.info_hashes()
        self.recorded = wanted
        changed = False
        for info_hash in sorted(self.refused.keys() - wanted):
            del self.refused[info_hash]
        for info_hash in sorted(wanted - self.handles.keys()):
            try:
                record = self.state.load(info_hash)
            except SeedError as error:
                log.info(f"skipping {info_hash}: {error}")
                continue
            problem = record.file_problem()
            if problem:
                self._refuse(record, problem)
                continue
            self.refused.pop(info_hash, None)
            self._add(record)
            changed = True
        for info_hash in sorted(self.handles.keys() - self.adopted):
            record = self.records[info_hash]
            problem = "its record was removed" if info_hash not in wanted else record.file_problem()
            if problem:
                self.session.remove_torrent(self.handles.pop(info_hash))
                del self.records[info_hash]
                self.uploads.forget(info_hash)
                log.info(f"stopped seeding {record.name}")
                if info_hash in wanted:
                    self._refuse(record, problem)
                changed = True
        return changed

    def files(self) -> dict[str, Path]:
        """File name → path of every complete seeded file, for the web seed (see :meth:`owners`)."""
        return {name: self.records[h].path for name, h in self.owners().items() if h not in self.partial}

    def owners(self) -> dict[str, str]:
        """File name → the info hash that owns it on the web seed, the same after every restart:
        ``seed add``'s files first, then mirrored ones in the order the mirror adopted them
        (earliest mirrored first, see seed/mirror/), so no feed takes a name by grinding a
        lower info hash. A download in progress holds its name too."""
        table: dict[str, str] = {}
        for info_hash, record in sorted(self.records.items(), key=lambda item: item[0] in self.adopted):
            table.setdefault(record.name, info_hash)
        return table

    def adopt(self, record: Record, complete: bool) -> lt.torrent_handle | None:
        """Add a torrent that another module (the mirror) looks after, unless its info hash is
        already in the session: libtorrent 2.1.1's ``add_torrent`` would then return the
        existing handle, and its new owner could remove (and delete) the first owner's file.

        An incomplete one downloads into ``record.path``'s folder, allocated in full first, so
        a full disk shows up as a file error at once (libtorrent's sparse memory-mapped files
        could fail later, mid-write); a complete one is in upload mode, as ``seed add``'s are.
        """
        if record.info_hash in self.handles or record.info_hash in self.recorded:
            return None
        params, _ = self._params(record)
        params.storage_mode = lt.storage_mode_t.storage_mode_allocate
        if complete:
            params.flags |= lt.torrent_flags.upload_mode
        handle: lt.torrent_handle = self.session.add_torrent(params)
        self.handles[record.info_hash] = handle
        self.records[record.info_hash] = record
        self.adopted.add(record.info_hash)
        if not complete:
            self.partial.add(record.info_hash)
        return handle

    def download(self, info_hash: str) -> Download:
        """How far an adopted torrent's download is."""
        status = self.handles[info_hash].status()
        error = self.file_errors.get(info_hash) or (status.errc.message() if status.errc.value() else "")
        finished = status.progress >= 1.0 and status.state == lt.torrent_status.states.finished
        return Download(status.total_done, status.progress, status.is_seeding or finished, error)

    def completed(self, info_hash: str) -> None:
        """An adopted download is complete and checked: serve it (web seed too), never write to it again."""
        self.handles[info_hash].set_flags(lt.torrent_flags.upload_mode)
        self.partial.discard(info_hash)

    def reannounce(self, info_hash: str) -> None:
        """Ask every tracker of a torrent for peers now, minimum interval or not."""
        self.handles[info_hash].force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)

    def release(self, info_hash: str) -> None:
        """Remove an adopted torrent from the session, its files left alone: only its owner
        knows which folder is its own to delete (libtorrent's ``delete_files`` is never used)."""
        if info_hash not in self.adopted:
            return
        self.adopted.discard(info_hash)
        self.partial.discard(info_hash)
        self.file_errors.pop(info_hash, None)
        self.uploads.forget(info_hash)
        del self.records[info_hash]
        self.session.remove_torrent(self.handles.pop(info_hash))

    def pump(self, wait: float = 0.5) -> None:
        """Wait up to ``wait`` seconds for alerts, then handle all that arrived."""
        self.session.wait_for_alert(int(wait * 1000))
        for alert in self.session.pop_alerts():
            for kind in type(alert).__mro__:
                for handler in self._handlers.get(kind, ()):
                    handler(alert)
        self._trackers.retry()
        if time.monotonic() >= self._next_sample:
            self._sample_uploads()
            self._next_sample = time.monotonic() + SAMPLE_UPLOADS_EVERY

    def _sample_uploads(self) -> None:
        for info_hash in self.uploads.active():
            handle = self.handles.get(info_hash)
            if handle is None:
                continue
            peers = [Peer(p.remote_endpoint(), p.total_upload) for p in handle.get_peer_info()]
            self.uploads.sample(info_hash, handle.status().total_payload_upload, peers)

    def statuses(self, web_seed_sent: Mapping[str, int] | None = None) -> list[TorrentStatus]:
        """Each torrent's status; ``web_seed_sent`` is the web seed's bytes by file name."""
        sent = web_seed_sent or {}
        result = []
        for info_hash, handle in sorted(self.handles.items(), key=lambda item: self.records[item[0]].name):
            status = handle.status()
            problem = self.problems.get(info_hash, "")
            if status.errc.value():
                problem = f"file error: {status.errc.message()}"
            result.append(
                TorrentStatus(
                    name=self.records[info_hash].name,
                    info_hash=info_hash,
                    state="paused" if status.flags & lt.torrent_flags.paused else _STATES.get(status.state, "starting"),
                    peers=status.num_peers,
                    upload_rate=status.upload_payload_rate,
                    uploaded=status.all_time_upload,
                    problem=problem,
                    upload_by_kind={
                        **self.uploads.by_kind(info_hash),
                        WEBSEED: sent.get(self.records[info_hash].name, 0),
                    },
                )
            )
        for info_hash, (record, why) in sorted(self.refused.items(), key=lambda item: item[1][0].name):
            result.append(
                TorrentStatus(
                    name=record.name,
                    info_hash=info_hash,
                    state="not seeding",
                    peers=0,
                    upload_rate=0,
                    uploaded=0,
                    problem=why,
                )
            )
        return result

    def save_resume(self, timeout: float = 4, only_if_modified: bool = False) -> int:
        """Ask for resume data of every torrent and write what arrives within ``timeout``.

        Returns how many torrents' resume data could not be written (0 is success).
        """
        return self._resume.save(timeout, only_if_modified)

    def close(self) -> None:
        """Pause every torrent, which sends the ``stopped`` announces, and wait until all have paused.

        The session itself is left for the process to end with (``run.end``): libtorrent
        2.1.1's destructor waits without limit, holding the GIL, for a WebSocket tracker
        that accepted the connection but never answered the upgrade.
        """
        self.session.pause()
        running = set(self.handles)
        deadline = time.monotonic() + CLOSE_TIMEOUT
        while running and time.monotonic() < deadline:
            self.session.wait_for_alert(100)
            for alert in self.session.pop_alerts():
                if isinstance(alert, lt.torrent_paused_alert):
                    running.discard(str(alert.handle.info_hashes().v1))

    def _add(self, record: Record) -> None:
        params, how = self._params(record)
        if how == "new":  # just hashed by `seed add`: serve at once, verifying each piece as it is first sent
            params.flags |= lt.torrent_flags.seed_mode
        params.flags |= lt.torrent_flags.upload_mode
        self.handles[record.info_hash] = self.session.add_torrent(params)
        self.records[record.info_hash] = record
        log.info(f"seeding {record.name} ({record.info_hash}, {how}) from {record.path}")

    def _params(self, record: Record) -> tuple[lt.add_torrent_params, str]:
        """How to add a record's torrent: from its resume data if it has some, never paused or queued."""
        resume = self.state.read_resume(record.info_hash)
        params, how = None, "new"
        if resume is not None:
            try:
                params, how = lt.read_resume_data(resume), "from resume data"
            except RuntimeError as error:
                log.info(f"ignoring damaged resume data for {record.name} ({error}): checking the file instead")
        if params is None:
            params = lt.add_torrent_params()
        params.ti = lt.torrent_info(record.torrent)
        params.save_path = str(record.path.parent)
        params.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.upload_mode
        return params, how

    def _refuse(self, record: Record, problem: str) -> None:
        """Keep a changed file out of the swarm, and say so once (not at every rescan)."""
        if self.refused.get(record.info_hash, (None, None))[1] != problem:
            log.info(
                f"not seeding {record.name} ({record.info_hash}): {problem}; run `seed add` on it again to re-hash it"
            )
        self.refused[record.info_hash] = (record, problem)

    def _session_error(self, alert: lt.alert) -> None:
        if isinstance(alert, lt.torrent_alert) or not alert.category() & lt.alert_category.error:
            return
        if alert.message() not in self._session_errors:
            self._session_errors.add(alert.message())
            log.info(f"libtorrent: {alert.message()}")

    def _connected(self, alert: lt.peer_connect_alert) -> None:
        self.uploads.connected(info_hash_of(alert), alert.endpoint, kind_of(alert.message()))

    def _state_changed(self, alert: lt.state_changed_alert) -> None:
        name = self.name_of(alert)
        if name is not None and alert.state == lt.torrent_status.states.checking_files:
            log.info(f"{name}: checking the file (hashing every piece)")
        elif name is not None and alert.state == lt.torrent_status.states.seeding:
            log.info(f"{name}: ready to serve")

    def _resume_rejected(self, alert: lt.fastresume_rejected_alert) -> None:
        name = self.name_of(alert)
        if name is not None:
            log.info(f"{name}: resume data rejected ({alert.message()}): checking the file")

    def _file_error(self, alert: lt.file_error_alert | lt.torrent_error_alert) -> None:
        name = self.name_of(alert)
        if name is not None:
            self.problems[info_hash_of(alert)] = alert.message()
            self.file_errors[info_hash_of(alert)] = alert.message()
            log.info(f"{name}: {alert.message()}")

    def _hash_failed(self, alert: lt.hash_failed_alert) -> None:
        name = self.name_of(alert)
        if name is not None:
            log.info(f"{name}: piece {alert.piece_index} does not match the torrent: was the file changed?")
