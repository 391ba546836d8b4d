"""Mirroring what the seeder follows: poll each feed, download new videos, seed them, drop old ones.

``seed run`` calls :meth:`Mirror.tick` between libtorrent alerts. Feeds and ``.torrent``
files (or, for an item that gives only a magnet link, its metadata from its peers, all of a
poll's magnets at once: :mod:`seed.metadata`) are fetched on daemon threads, one per
subscription (seed/mirror/poller.py: an unreachable or slow site must not stall the
seeding, the other sites, nor the exit); the seeder's libtorrent session is only touched
from the main thread. Videos download in
parallel from the swarm and from the ``.torrent``'s web seeds, each piece checked against
the torrent, so one whose data never arrives holds up nothing else. Once complete, a video
is seeded like the seeder's own (browsers over WebRTC, desktop clients over TCP/uTP, the web
seed), with resume data across restarts.

The mirror's files are its store's (seed/mirror/store.py); what a poll means is decided
by a pure plan (seed/mirror/plan.py), and carried out here, on the main thread.

A video that leaves the feed (or the ``--latest``/``--max-size`` selection, or whose
subscription was removed) is dropped after the grace period, and only then is its data
deleted: only these folders are ever deleted, never a file that ``seed add`` recorded.
Files are allocated in full before downloading, so a full disk shows up as a file error
at once (libtorrent's sparse memory-mapped files could fail later, mid-write); the torrent
is then removed with its partial data, reported, and tried again at the next poll.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field

from .. import follow
from ..metadata import Metadata
from ..session import Seeder
from ..state import Record, State
from ..status import TorrentStatus, size
from .plan import SEED_ADD, Candidate, Limits, Mirrored, Owned, Skipped, plan
from .poller import DEADLINE as POLL_DEADLINE
from .poller import Failure, Poll, Poller, Request
from .store import Item, Store

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
#: Seconds a removed torrent's data folder is deleted again: libtorrent removes a torrent at once
#: but runs its queued disk jobs after, and a full disk's retried fallocate recreated the partial
#: file after the folder was gone (seen under load in test_a_full_disk_is_reported...).
REMOVED_SWEEP = 10.0


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
    #: What the last poll ignored of the feed (items past the cap), said once in the log.
    notice: str = ""
    #: Per-video problems of the last poll (bad .torrent, too large...), by feed key.
    skipped: dict[str, Skipped] = field(default_factory=dict)


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
        self.store = Store(state)
        self.items: dict[str, Item] = {}
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
        #: Data folders of torrents just removed from the session, and until when to delete them again.
        self._removed: dict[str, float] = {}

    # --- called by seed run ---

    def start(self) -> None:
        """Seed again what was mirrored before (resume data: no re-download), earliest mirrored
        first, so that each file name keeps its owner across restarts (:meth:`Seeder.files`)."""
        items, problems = self.store.load()
        for problem in problems:
            log.info(f"mirror: {problem}")
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
            self._sweep_removed(now)
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
            if item is not None and status.info_hash in self.seeder.handles:
                progress = 1.0 if item.complete else self.seeder.download(item.info_hash).progress
                note = status.problem or (
                    "gone from the feed; dropped after the grace period" if item.missing_since is not None else ""
                )
                status = dataclasses.replace(status, progress=progress, source=item.subscription, problem=note)
            result.append(status)
        for name, feed in sorted(self.feeds.items()):
            rows = list(feed.skipped.values())
            if len(rows) > MAX_ROWS:
                more = len(rows) - MAX_ROWS + 1
                rows[MAX_ROWS - 1 :] = [Skipped(f"and {more} more", f"not mirrored either (at most {MAX_ROWS} rows)")]
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
                    "notice": feed.notice,
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
        _note(feed, poll)
        self._failures[poll.name] = poll.failures
        candidates = []
        for video, torrent, problem in poll.videos:
            if torrent is not None:
                self._hashes[video.torrent_url or ""] = torrent.info_hash
            info_hash = torrent.info_hash if torrent else video.info_hash
            candidates.append(Candidate(video.key, video.title, info_hash, torrent, problem))
        limits = Limits(feed.subscription.max_size, shutil.disk_usage(self.state.root).free)
        decided = plan(poll.name, candidates, self._owned(), limits)
        for candidate in decided.new:
            skip = self._new(poll.name, candidate)
            if skip is not None:
                decided.skipped[candidate.key] = skip
        for info_hash in decided.back:
            item = self.items[info_hash]
            item.missing_since = None
            self._save(item)
            log.info(f"mirror: {item.name} is back in the feed of {poll.name}; keeping it")
        for info_hash in decided.gone:
            item = self.items[info_hash]
            item.missing_since = time.time()
            self._save(item)
            log.info(
                f"mirror: {item.name} left the feed of {poll.name} (or its --latest/--max-size "
                f"selection); dropping it in {self.grace:g} s unless it comes back"
            )
        news = [
            f"mirror: {poll.name}: not mirroring {skip.title!r}: {skip.problem}"
            for key, skip in decided.skipped.items()
            if feed.skipped.get(key) != skip
        ]
        for line in news[:MAX_ROWS]:
            log.info(line)
        if len(news) > MAX_ROWS:
            log.info(f"mirror: {poll.name}: and {len(news) - MAX_ROWS} more not mirrored")
        feed.skipped = decided.skipped

    def _owned(self) -> Owned:
        return Owned(
            {h: Mirrored(i.subscription, i.size, i.missing_since is not None) for h, i in self.items.items()},
            frozenset(self.seeder.recorded),
            {
                name: self.items[h].subscription if h in self.items else SEED_ADD
                for name, h in self.seeder.owners().items()
            },
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

    def _new(self, subscription: str, candidate: Candidate) -> Skipped | None:
        """Start mirroring a new video, or say why it cannot be stored."""
        torrent = candidate.torrent
        assert torrent is not None  # the plan's new ones have theirs
        item = Item(torrent.info_hash, subscription, torrent.name, torrent.size, candidate.title, mirrored=time.time())
        try:
            self.store.create(item, torrent.data)
        except OSError as error:  # a full or read-only disk: nothing half-written is kept
            return Skipped(candidate.title, f"cannot store its .torrent: {error.strerror or error}")
        log.info(f"mirror: {subscription}: downloading {item.name} ({item.info_hash}, {size(item.size)})")
        self._add(item, torrent.data)
        return None

    def _add(self, item: Item, torrent: bytes) -> bool:
        """Hand the torrent to the seeder; False if its info hash is seeded already (``seed add``'s)."""
        save_path = self.store.data(item.info_hash)
        save_path.mkdir(parents=True, exist_ok=True)
        record = Record(item.info_hash, torrent, save_path / item.name, item.size, 0)
        if self.seeder.adopt(record, complete=item.complete) is None:
            return False
        self.items[item.info_hash] = item
        return True

    def _check_downloads(self) -> bool:
        changed = False
        for item in [i for i in self.items.values() if i.info_hash in self.seeder.recorded]:
            self._hand_over(item)
            changed = True
        for item in [i for i in self.items.values() if not i.complete and i.info_hash in self.seeder.handles]:
            download = self.seeder.download(item.info_hash)
            if download.error:
                self._fail(item, download.error)
            elif download.complete:
                item.complete = True
                self._save(item)
                self.seeder.completed(item.info_hash)
                self._progress.pop(item.info_hash, None)
                log.info(
                    f"mirror: {item.subscription}: {item.name} complete and checked ({size(item.size)}); seeding it"
                )
                changed = True
            else:
                self._stalled(item.info_hash, download.done)
        return changed

    def _stalled(self, info_hash: str, done: int) -> None:
        """Ask for peers again when a download got nothing for STALLED_AFTER seconds."""
        before, since = self._progress.get(info_hash, (-1, 0.0))
        if done != before:
            self._progress[info_hash] = (done, time.monotonic())
        elif time.monotonic() - since > STALLED_AFTER:
            self.seeder.reannounce(info_hash)
            self._progress[info_hash] = (done, time.monotonic())

    def _fail(self, item: Item, why: str) -> None:
        """A download that cannot go on (a full disk, an unwritable folder): drop its partial data."""
        problem = f"download failed: {why}; its partial data was deleted, trying again at the next poll"
        log.info(f"mirror: {item.subscription}: {item.name}: {problem}")
        self._remove(item)
        feed = self.feeds.get(item.subscription)
        if feed is not None:
            feed.skipped[item.info_hash] = Skipped(item.name, problem)

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

    def _hand_over(self, item: Item) -> None:
        """``seed add`` recorded this video too: the user's copy is seeded, the mirror deletes its own."""
        log.info(f"mirror: {item.subscription}: {item.name} is already seeded (seed add); deleting the mirror's copy")
        self._remove(item)

    def _remove(self, item: Item) -> None:
        """Stop mirroring a video: its torrent leaves the session if it is the mirror's, and
        only the mirror's own files go (never with libtorrent's ``delete_files``, which would
        delete whatever file the handle points at)."""
        if item.info_hash in self.seeder.adopted:
            self.seeder.release(item.info_hash)
            self.state.resume_dir.joinpath(f"{item.info_hash}.resume").unlink(missing_ok=True)
            self._removed[item.info_hash] = time.monotonic() + REMOVED_SWEEP
        self.items.pop(item.info_hash, None)
        self._progress.pop(item.info_hash, None)
        self.store.delete(item.info_hash)

    def _sweep_removed(self, now: float) -> None:
        """Delete removed torrents' data folders again, while libtorrent may still write to them."""
        for info_hash, until in list(self._removed.items()):
            if info_hash in self.items or now >= until:  # mirrored again, or libtorrent is done with it
                del self._removed[info_hash]
            else:
                self.store.delete_data(info_hash)

    def _save(self, item: Item) -> None:
        try:
            self.store.save(item)
        except OSError as error:
            log.info(f"mirror: cannot write {item.info_hash}.json: {error.strerror}")


def _note(feed: _Feed, poll: Poll) -> None:
    """Keep what the poll ignored of the feed, and say it in the log when it changes."""
    if poll.notice and poll.notice != feed.notice:
        log.info(f"mirror: {poll.name}: {poll.notice}")
    feed.notice = poll.notice
