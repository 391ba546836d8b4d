"""Mirroring what the seeder follows: poll each feed, download new videos, seed them, drop old ones.

``seed run`` calls :meth:`Mirror.tick` between libtorrent alerts. Feeds and ``.torrent``
files (or, for an item that gives only a magnet link, its metadata from its peers, all of a
poll's magnets at once: :mod:`seed.metadata`) are fetched on a daemon thread (an
unreachable site must not stall the seeding, nor a slow one hold up the exit), one poll
round at a time; the seeder's libtorrent session is only touched from the main thread. Videos download in
parallel from the swarm and from the ``.torrent``'s web seeds, each piece checked against
the torrent, so one whose data never arrives holds up nothing else. Once complete, a video
is seeded like the seeder's own (browsers over WebRTC, desktop clients over TCP/uTP, the web
seed), with resume data across restarts.

Layout, all under the state directory and named by info hash (never by anything a feed
says)::

    mirror/<hash>.torrent     the .torrent as fetched (checked: single file, v1)
    mirror/<hash>.json        which subscription it is for, whether it is complete, since
                              when it is gone from the feed
    mirror/data/<hash>/       libtorrent's save path; the file name inside is the torrent's,
                              sanitised by libtorrent, and single-file torrents only

A video that leaves the feed (or the ``--latest``/``--max-size`` selection, or whose
subscription was removed) is dropped after the grace period, and only then is its data
deleted: only these folders are ever deleted, never a file that ``seed add`` recorded.
Files are allocated in full before downloading, so a full disk shows up as a file error
at once (libtorrent's sparse memory-mapped files could fail later, mid-write); the torrent
is then removed with its partial data, reported, and tried again at the next poll.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import PurePath

import libtorrent as lt

from videoswarm_content.files import atomic_write

from . import follow
from .feed import Torrent
from .metadata import Metadata
from .poller import DEADLINE as POLL_DEADLINE
from .poller import Failure, Poll, Poller, Request
from .session import Seeder
from .state import Record, State
from .status import MirrorState, TorrentStatus, size

log = logging.getLogger("seed")

#: Most "not mirrored" rows per subscription in the status (the rest are one row), and most
#: "not mirroring" lines per poll in the log: 3,000 failing items made a 0.9 MB status.json.
MAX_ROWS = 20
#: How often a download's progress is looked at.
CHECK_EVERY = 0.5
#: A download that got nothing for this long asks its trackers for peers again: libtorrent
#: forgets a peer after three failed connections (an origin at its connection limit while a
#: whole site downloads), and the next regular announce may be half an hour away.
STALLED_AFTER = 15.0


@dataclass
class _Item:
    """One mirrored video, as stored in ``mirror/<hash>.json``."""

    info_hash: str
    subscription: str
    name: str
    size: int
    title: str
    complete: bool = False
    missing_since: float | None = None
    #: When it was first mirrored (seconds since the epoch): the earliest keeps a shared file name.
    mirrored: float = 0.0


@dataclass(frozen=True)
class _Skipped:
    """A feed item that is not mirrored, and why."""

    title: str
    problem: str
    state: MirrorState = MirrorState.NOT_MIRRORED
    info_hash: str = ""


@dataclass
class _Feed:
    """What the mirror knows of one subscription's feed."""

    subscription: follow.Subscription
    next_poll: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    last_check: float | None = None
    videos: int = 0
    problem: str = ""
    #: Per-video problems of the last poll (bad .torrent, too large...), by feed key.
    skipped: dict[str, _Skipped] = field(default_factory=dict)


class Mirror:
    """Keeps a seeder's mirrored videos in step with the feeds it follows."""

    def __init__(
        self,
        state: State,
        seeder: Seeder,
        interval: float,
        grace: float,
        metadata: Metadata,
    ) -> None:
        self.state = state
        self.seeder = seeder
        self.interval = interval
        self.grace = grace
        self.root = state.root / "mirror"
        self.items: dict[str, _Item] = {}
        self.feeds: dict[str, _Feed] = {}
        #: Info hash each torrent URL turned out to have, for feeds that do not say.
        self._hashes: dict[str, str] = {}
        self._closing = threading.Event()
        self._poller = Poller(metadata, self._closing)
        #: Failed .torrent URLs of each subscription, not fetched again until their retry time.
        self._failures: dict[str, dict[str, Failure]] = {}
        self._next_check = 0.0
        #: Bytes each download had, and when it last grew.
        self._progress: dict[str, tuple[int, float]] = {}

    # --- called by seed run ---

    def start(self) -> None:
        """Seed again what was mirrored before (resume data: no re-download), earliest mirrored
        first, so that each file name keeps its owner across restarts (:meth:`Seeder.files`)."""
        items: list[tuple[_Item, bytes]] = []
        for meta in sorted(self.root.glob("*.json")):
            try:
                item = _Item(**json.loads(meta.read_text(encoding="utf-8")))
                if meta.stem != item.info_hash:
                    raise ValueError(f"it names {item.info_hash}")
                items.append((item, (self.root / f"{item.info_hash}.torrent").read_bytes()))
            except (OSError, ValueError, TypeError) as error:
                log.info(f"mirror: ignoring damaged {meta.name}: {error}")
        for item, torrent in sorted(items, key=lambda pair: (pair[0].mirrored, pair[0].info_hash)):
            try:
                added = self._add(item, torrent)
            except RuntimeError as error:  # libtorrent
                log.info(f"mirror: ignoring damaged {item.info_hash}.torrent: {error}")
                continue
            if not added:
                self._hand_over(item)
                continue
            log.info(
                f"mirror: {item.subscription}: {'seeding' if item.complete else 'downloading'} "
                f"{item.name} again ({item.info_hash})"
            )

    def tick(self) -> bool:
        """Poll feeds when due, follow downloads and grace periods. Returns whether the set of
        complete files (what the web seed serves) changed."""
        now = time.monotonic()
        changed = False
        for poll in self._poller.finished(now):
            self._apply_safely(poll)
        if now >= self._next_check:
            self._next_check = now + CHECK_EVERY
            changed |= self._check_downloads()
            changed |= self._expire(time.time())
            known = frozenset({i.info_hash for i in self.items.values()} | set(self.seeder.records))
            for feed in self._due(now):
                name = feed.subscription.name
                request = Request(
                    feed.subscription,
                    feed.etag,
                    feed.last_modified,
                    known,
                    dict(self._hashes),
                    dict(self._failures.get(name, {})),
                    now + POLL_DEADLINE,
                )
                if self._poller.submit(request):
                    feed.next_poll = now + self.interval
        return changed

    def statuses(self, torrents: list[TorrentStatus]) -> list[TorrentStatus]:
        """The seeder's statuses with progress and subscription on mirrored torrents, then
        the videos a feed lists that are not mirrored, with the reason."""
        result = []
        for status in torrents:
            item = self.items.get(status.info_hash)
            handle = self.seeder.handles.get(status.info_hash)
            if item is not None and handle is not None:
                progress = 1.0 if item.complete else handle.status().progress
                note = status.problem or (
                    "gone from the feed; dropped after the grace period" if item.missing_since is not None else ""
                )
                status = dataclasses.replace(status, progress=progress, source=item.subscription, problem=note)
            result.append(status)
        for name, feed in sorted(self.feeds.items()):
            rows = list(feed.skipped.values())
            if len(rows) > MAX_ROWS:
                more = len(rows) - MAX_ROWS + 1
                rows[MAX_ROWS - 1 :] = [_Skipped(f"and {more} more", f"not mirrored either (at most {MAX_ROWS} rows)")]
            for skipped in rows:
                result.append(
                    TorrentStatus(
                        name=skipped.title,
                        info_hash=skipped.info_hash,
                        state=skipped.state,
                        peers=0,
                        upload_rate=0,
                        uploaded=0,
                        problem=skipped.problem,
                        progress=0.0,
                        source=name,
                    )
                )
        return result

    def subscriptions(self) -> list[dict[str, object]]:
        """Each subscription and how its last poll went, for ``seed status``."""
        rows: list[dict[str, object]] = []
        for name, feed in sorted(self.feeds.items()):
            mine = [i for i in self.items.values() if i.subscription == name]
            rows.append(
                {
                    "name": name,
                    "url": feed.subscription.url,
                    "site": feed.subscription.site,
                    "max_size": feed.subscription.max_size,
                    "latest": feed.subscription.latest,
                    "videos": feed.videos,
                    "mirrored": sum(i.complete for i in mine),
                    "downloading": sum(not i.complete for i in mine),
                    "size": sum(i.size for i in mine),
                    "last_check": feed.last_check,
                    "problem": feed.problem,
                }
            )
        return rows

    def close(self) -> None:
        """Stop polling; a request in flight is abandoned with its daemon thread."""
        self._closing.set()

    # --- polling (worker thread: HTTP only, no libtorrent session) ---

    def _due(self, now: float) -> list[_Feed]:
        current = {s.name: s for s in follow.load_all(self.state)}
        for name in list(self.feeds):
            if name not in current:
                del self.feeds[name]
                log.info(f"mirror: no longer following {name}; its videos go after the grace period")
        for item in self.items.values():
            if item.subscription not in current and item.missing_since is None:
                item.missing_since = time.time()
                self._save(item)
        for name, subscription in current.items():
            feed = self.feeds.setdefault(name, _Feed(subscription))
            if feed.subscription != subscription:
                feed.subscription, feed.next_poll, feed.etag, feed.last_modified = subscription, 0.0, None, None
        return [f for f in self.feeds.values() if now >= f.next_poll and not self._poller.busy(f.subscription.name)]

    # --- applying (main thread) ---

    def _apply_safely(self, poll: Poll) -> None:
        """Apply one poll; a failure (a bug, a value no check foresaw) is that subscription's problem alone."""
        try:
            self._apply(poll)
        except Exception as error:  # noqa: BLE001 (nothing from a feed may end seed run)
            self._apply_safely(Poll(poll.name, error=f"cannot use the feed: {type(error).__name__}: {error}"))

    def _apply(self, poll: Poll) -> None:
        feed = self.feeds.get(poll.name)
        if feed is None:
            return
        feed.last_check = time.time()
        if not self._answered(feed, poll):
            return
        feed.videos = poll.count
        self._failures[poll.name] = poll.failures
        skipped: dict[str, _Skipped] = {}
        wanted: set[str] = set()
        news: list[str] = []
        used = 0
        for video, torrent, problem in poll.videos:
            if torrent is not None:
                self._hashes[video.torrent_url or ""] = torrent.info_hash
            info_hash = torrent.info_hash if torrent else video.info_hash
            item_size = torrent.size if torrent else self.items[info_hash].size if info_hash in self.items else 0
            skip = self._refusal(feed, video.title, info_hash, problem, (used, item_size))
            if skip is None and torrent is not None and torrent.info_hash not in self.items:
                skip = self._new(poll.name, video.title, torrent)
            if skip is not None or info_hash is None:
                skipped[video.key] = skip or _Skipped(video.title, "no info hash")
                if feed.skipped.get(video.key) != skipped[video.key]:
                    news.append(f"mirror: {poll.name}: not mirroring {video.title!r}: {skipped[video.key].problem}")
                continue
            used += item_size
            wanted.add(info_hash)
            self._listed(poll.name, info_hash)
        feed.skipped = skipped
        for line in news[:MAX_ROWS]:
            log.info(line)
        if len(news) > MAX_ROWS:
            log.info(f"mirror: {poll.name}: and {len(news) - MAX_ROWS} more not mirrored")
        for item in self.items.values():
            if item.subscription == poll.name and item.info_hash not in wanted and item.missing_since is None:
                item.missing_since = time.time()
                self._save(item)
                log.info(
                    f"mirror: {item.name} left the feed of {poll.name} (or its --latest/--max-size "
                    f"selection); dropping it in {self.grace:g} s unless it comes back"
                )

    def _answered(self, feed: _Feed, poll: Poll) -> bool:
        """Note how the poll went; whether it brought a new list of videos."""
        if poll.error:
            if feed.problem != poll.error:
                log.info(f"mirror: {poll.name}: {poll.error}; keeping what is mirrored, trying again later")
            feed.problem = poll.error
            return False
        if feed.problem:
            log.info(f"mirror: {poll.name}: the feed is back")
        feed.problem = ""
        feed.etag, feed.last_modified = poll.etag, poll.last_modified
        return not poll.not_modified

    def _refusal(
        self, feed: _Feed, title: str, info_hash: str | None, problem: str, sizes: tuple[int, int]
    ) -> _Skipped | None:
        """Why an item is not mirrored, or None; ``sizes``: the bytes of the newer items kept, and its own."""
        limit, (used, item_size) = feed.subscription.max_size, sizes
        if problem:
            return _Skipped(title, problem)
        if info_hash is not None and info_hash in self.seeder.recorded:
            return _Skipped(title, "already seeded (seed add)", MirrorState.ALREADY_SEEDED, info_hash)
        if limit is not None and used + item_size > limit:
            return _Skipped(
                title,
                f"larger than --max-size {size(limit)} ({size(item_size)})"
                if item_size > limit
                else f"over --max-size {size(limit)} with the newer videos ({size(used)} used)",
            )
        return None

    def _listed(self, subscription: str, info_hash: str) -> None:
        """An item in the feed again before its grace period ended: keep it."""
        item = self.items.get(info_hash)
        if item is not None and item.missing_since is not None and item.subscription == subscription:
            item.missing_since = None
            self._save(item)
            log.info(f"mirror: {item.name} is back in the feed of {subscription}; keeping it")

    def _new(self, subscription: str, title: str, torrent: Torrent) -> _Skipped | None:
        """Start mirroring a new video, or say why not."""
        name = PurePath(torrent.name).name
        owner = self.seeder.owner_of(name)
        if owner is not None:
            who = self.items[owner].subscription if owner in self.items else "a video added with seed add"
            return _Skipped(title, f"{name} is taken by {who}: the web seed serves one file per name")
        free = shutil.disk_usage(self.state.root).free
        if torrent.size > free:
            return _Skipped(title, f"needs {size(torrent.size)}, and the disk has {size(free)} free")
        item = _Item(torrent.info_hash, subscription, torrent.name, torrent.size, title, mirrored=time.time())
        try:
            self.root.mkdir(exist_ok=True)
            atomic_write(self.root / f"{item.info_hash}.torrent", torrent.data)
            try:
                atomic_write(self.root / f"{item.info_hash}.json", _encode(item))
            except OSError:
                (self.root / f"{item.info_hash}.torrent").unlink(missing_ok=True)
                raise
        except OSError as error:  # a full or read-only disk: nothing half-written is kept
            return _Skipped(title, f"cannot store its .torrent: {error.strerror or error}")
        log.info(f"mirror: {subscription}: downloading {item.name} ({item.info_hash}, {size(item.size)})")
        self._add(item, torrent.data)
        return None

    def _add(self, item: _Item, torrent: bytes) -> bool:
        """Hand the torrent to the seeder; False if its info hash is seeded already (``seed add``'s)."""
        resume = self.state.read_resume(item.info_hash)
        params = None
        if resume is not None:
            try:
                params = lt.read_resume_data(resume)
            except RuntimeError as error:
                log.info(f"mirror: ignoring damaged resume data for {item.name} ({error})")
        if params is None:
            params = lt.add_torrent_params()
        params.ti = lt.torrent_info(torrent)
        save_path = self.root / "data" / item.info_hash
        save_path.mkdir(parents=True, exist_ok=True)
        params.save_path = str(save_path)
        params.storage_mode = lt.storage_mode_t.storage_mode_allocate
        params.flags &= ~lt.torrent_flags.paused & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.upload_mode
        if item.complete:
            params.flags |= lt.torrent_flags.upload_mode
        record = Record(item.info_hash, torrent, save_path / item.name, item.size, 0)
        if self.seeder.adopt(record, params, complete=item.complete) is None:
            return False
        self.items[item.info_hash] = item
        return True

    def _check_downloads(self) -> bool:
        changed = False
        for item in [i for i in self.items.values() if i.info_hash in self.seeder.recorded]:
            self._hand_over(item)
            changed = True
        for item in list(self.items.values()):
            handle = self.seeder.handles.get(item.info_hash)
            if handle is None or item.complete:
                continue
            status = handle.status()
            error = self.seeder.file_errors.get(item.info_hash) or (status.errc.value() and status.errc.message())
            if error:
                self._fail(item, str(error))
                continue
            if status.is_seeding or status.progress >= 1.0 and status.state == lt.torrent_status.states.finished:
                item.complete = True
                self._save(item)
                handle.set_flags(lt.torrent_flags.upload_mode)
                self.seeder.partial.discard(item.info_hash)
                self._progress.pop(item.info_hash, None)
                log.info(
                    f"mirror: {item.subscription}: {item.name} complete and checked ({size(item.size)}); seeding it"
                )
                changed = True
                continue
            done, since = self._progress.get(item.info_hash, (-1, 0.0))
            if status.total_done != done:
                self._progress[item.info_hash] = (status.total_done, time.monotonic())
            elif time.monotonic() - since > STALLED_AFTER:
                handle.force_reannounce(0, -1, lt.reannounce_flags_t.ignore_min_interval)
                self._progress[item.info_hash] = (done, time.monotonic())
        return changed

    def _fail(self, item: _Item, why: str) -> None:
        """A download that cannot go on (a full disk, an unwritable folder): drop its partial data."""
        problem = f"download failed: {why}; its partial data was deleted, trying again at the next poll"
        log.info(f"mirror: {item.subscription}: {item.name}: {problem}")
        self._remove(item)
        feed = self.feeds.get(item.subscription)
        if feed is not None:
            feed.skipped[item.info_hash] = _Skipped(item.name, problem)

    def _expire(self, now: float) -> bool:
        changed = False
        for item in list(self.items.values()):
            if item.missing_since is not None and now - item.missing_since >= self.grace:
                log.info(
                    f"mirror: {item.subscription}: dropping {item.name}: gone from the feed for "
                    f"{now - item.missing_since:.0f} s; deleting its data"
                )
                changed |= item.complete
                self._remove(item)
        return changed

    def _hand_over(self, item: _Item) -> None:
        """``seed add`` recorded this video too: the user's copy is seeded, the mirror deletes its own."""
        log.info(f"mirror: {item.subscription}: {item.name} is already seeded (seed add); deleting the mirror's copy")
        self._remove(item)

    def _remove(self, item: _Item) -> None:
        """Stop mirroring a video: its torrent leaves the session if it is the mirror's, and
        only the mirror's own files go (never with libtorrent's ``delete_files``, which would
        delete whatever file the handle points at)."""
        if item.info_hash in self.seeder.adopted:
            self.seeder.release(item.info_hash)
            self.state.resume_dir.joinpath(f"{item.info_hash}.resume").unlink(missing_ok=True)
        self.items.pop(item.info_hash, None)
        self._progress.pop(item.info_hash, None)
        for path in (self.root / f"{item.info_hash}.json", self.root / f"{item.info_hash}.torrent"):
            path.unlink(missing_ok=True)
        shutil.rmtree(self.root / "data" / item.info_hash, ignore_errors=True)

    def _save(self, item: _Item) -> None:
        try:
            atomic_write(self.root / f"{item.info_hash}.json", _encode(item))
        except OSError as error:
            log.info(f"mirror: cannot write {item.info_hash}.json: {error.strerror}")


def names(state: State) -> dict[str, tuple[str, str]]:
    """File name → (info hash, subscription) of each mirrored video, for ``seed add``'s name check."""
    table: dict[str, tuple[str, str]] = {}
    for meta in sorted((state.root / "mirror").glob("*.json")):
        try:
            item = _Item(**json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            continue  # seed run reports it
        table.setdefault(PurePath(item.name).name, (item.info_hash, item.subscription))
    return table


def _encode(item: _Item) -> bytes:
    return json.dumps(dataclasses.asdict(item)).encode() + b"\n"
