"""Polling the followed feeds: each subscription on its own thread, each result handed back as it comes.

A feed that trickles one byte every 3 s kept every other subscription unpolled for as long
as it lasted when the subscriptions were polled in sequence and the results applied all at
once (issue 23.5). So each subscription's poll runs on a daemon thread of its own (an
abandoned one must not hold up the exit), at most :data:`MAX_POLLS` at once and one per
subscription, and :meth:`Poller.finished` hands each result to the main thread, which alone
touches the seeder's libtorrent session. A poll that runs past its total deadline is
reported as that subscription's problem and its result is dropped when it comes; the
subscription is polled again only once that thread has ended.

Nothing a feed holds may end ``seed run``: any exception while fetching or parsing one
subscription becomes its one-line problem. A ``.torrent`` URL that failed is not fetched
again at every poll (3,000 failing items at a 5 s interval made 6,000 requests in 20 s,
issue 23.6): it waits :data:`RETRY_FIRST`, then twice as long after each failure, up to
:data:`RETRY_MAX`, and its last problem is reported meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from .. import follow
from ..feed import FeedError, FeedVideo, Torrent, client, fetch, fetch_torrent
from ..metadata import Metadata

#: Subscriptions polled at the same time, at most (each is one thread and one HTTP connection).
MAX_POLLS = 8
#: Seconds before a failed ``.torrent`` URL is fetched again, doubled after each failure up to ``RETRY_MAX``.
RETRY_FIRST = 60.0
RETRY_MAX = 6 * 3600.0
#: Seconds a poll may take in all (the feed, its .torrent files, its magnets' metadata); the
#: .torrent files not fetched by then are fetched at the next poll.
DEADLINE = 300.0


@dataclass(frozen=True)
class Failure:
    """A ``.torrent`` URL that failed: its problem, when to try it again, and the delay that led there."""

    problem: str
    retry_at: float
    delay: float

    def again(self, problem: str, now: float) -> Failure:
        delay = min(self.delay * 2, RETRY_MAX)
        return Failure(problem, now + delay, delay)


def first_failure(problem: str, now: float) -> Failure:
    return Failure(problem, now + RETRY_FIRST, RETRY_FIRST)


@dataclass(frozen=True)
class Request:
    """What one poll needs, copied from the main thread's state when it starts."""

    subscription: follow.Subscription
    etag: str | None
    last_modified: str | None
    #: Info hashes seeded already: their ``.torrent`` is not fetched again.
    known: frozenset[str]
    #: The info hash each ``.torrent`` URL turned out to have, for feeds that do not say.
    hashes: Mapping[str, str]
    #: ``.torrent`` URLs that failed, by URL.
    failures: Mapping[str, Failure]
    #: ``time.monotonic()`` after which the poll gives up.
    deadline: float


@dataclass(frozen=True)
class Poll:
    """A poll's outcome, made on a poll thread, applied on the main one."""

    name: str
    fetched_url: str = ""
    error: str = ""
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    #: Feed order (newest first), after --latest: (item, its torrent if new, or a problem).
    videos: list[tuple[FeedVideo, Torrent | None, str]] = field(default_factory=list)
    count: int = 0
    #: ``.torrent`` URLs that failed in this poll (or are still waiting to be tried again).
    failures: dict[str, Failure] = field(default_factory=dict)
    #: What was ignored of a feed that could be read (items past ``seed.feed.MAX_ITEMS``).
    notice: str = ""


class Poller:
    """Runs polls on threads; the main thread submits them and collects what finished."""

    def __init__(self, metadata: Metadata, closing: threading.Event) -> None:
        self._metadata = metadata
        #: One magnet batch at a time: the metadata session is shared by the poll threads.
        self._metadata_lock = threading.Lock()
        self._closing = closing
        self._lock = threading.Lock()
        self._running: dict[str, float] = {}  # subscription -> its deadline
        self._overdue: set[str] = set()
        self._done: list[Poll] = []

    def busy(self, name: str) -> bool:
        with self._lock:
            return name in self._running

    def submit(self, request: Request) -> bool:
        """Start polling one subscription; False if it is still being polled or too many are."""
        name = request.subscription.name
        with self._lock:
            if name in self._running or len(self._running) >= MAX_POLLS:
                return False
            self._running[name] = request.deadline
        threading.Thread(target=self._work, args=(request,), name=f"poll {name}", daemon=True).start()
        return True

    def finished(self, now: float) -> list[Poll]:
        """The polls that ended since the last call, and one error for each poll past its deadline."""
        with self._lock:
            done, self._done = self._done, []
            for name, deadline in self._running.items():
                if now > deadline and name not in self._overdue:
                    self._overdue.add(name)
                    done.append(Poll(name, error="the poll ran past its deadline; trying again once it ends"))
        return done

    def _work(self, request: Request) -> None:
        name = request.subscription.name
        try:
            result = self._poll(request)
        except Exception as error:  # noqa: BLE001 (any failure of one feed is that feed's problem)
            result = Poll(name, error=f"cannot read the feed: {type(error).__name__}: {error}")
        with self._lock:
            del self._running[name]
            if name in self._overdue:
                self._overdue.discard(name)  # reported already; its result is too late to trust
            else:
                self._done.append(result)

    def _poll(self, request: Request) -> Poll:
        subscription = request.subscription
        with client(subscription.allow_private) as http:
            try:
                fetched = fetch(http, subscription.url, request.etag, request.last_modified)
            except FeedError as error:
                return Poll(subscription.name, error=str(error))
            if fetched.videos is None:
                return Poll(
                    subscription.name,
                    fetched.url,
                    not_modified=True,
                    etag=request.etag,
                    last_modified=request.last_modified,
                )
            listed = fetched.videos[: subscription.latest] if subscription.latest else fetched.videos
            videos, failures = self._torrents(http, listed, request)
        return Poll(
            subscription.name,
            fetched.url,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            videos=videos,
            count=len(fetched.videos),
            failures=failures,
            notice=fetched.problem,
        )

    def _torrents(
        self, http: httpx.Client, listed: list[FeedVideo], request: Request
    ) -> tuple[list[tuple[FeedVideo, Torrent | None, str]], dict[str, Failure]]:
        """Each listed item with its ``.torrent`` (fetched, or made from its peers' metadata) or a problem."""
        known = request.known
        # Magnet-only items first: their peers send metadata while the .torrent files download.
        magnets = [v.magnet for v in listed if v.torrent_url is None and v.magnet and v.info_hash not in known]
        videos: list[tuple[FeedVideo, Torrent | None, str]] = []
        failures: dict[str, Failure] = {}
        with self._metadata_lock if magnets else contextlib.nullcontext():
            if magnets:
                self._metadata.start(magnets)
            for video in listed:
                videos.append(self._torrent(http, video, request, failures))
            if magnets:
                got = self._metadata.collect(self._closing)
                for n, (video, _, _) in enumerate(videos):
                    result = got.get(video.info_hash or "")
                    if result is not None:
                        videos[n] = (video, None, str(result)) if isinstance(result, FeedError) else (video, result, "")
        return videos, failures

    def _torrent(
        self, http: httpx.Client, video: FeedVideo, request: Request, failures: dict[str, Failure]
    ) -> tuple[FeedVideo, Torrent | None, str]:
        info_hash = video.info_hash or request.hashes.get(video.torrent_url or "")
        if info_hash in request.known or video.torrent_url is None and video.magnet:
            return dataclasses.replace(video, info_hash=info_hash), None, ""
        url, now = video.torrent_url or "", time.monotonic()
        failed = request.failures.get(url)
        if failed is not None and now < failed.retry_at:
            failures[url] = failed
            return video, None, failed.problem
        if self._closing.is_set() or now > request.deadline:
            return video, None, "not fetched yet: the poll ran out of time; trying again at the next poll"
        try:
            return video, fetch_torrent(http, video), ""
        except FeedError as error:
            failures[url] = failed.again(str(error), now) if failed else first_failure(str(error), now)
            return video, None, str(error)
