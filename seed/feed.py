"""Fetching a site's feed and its ``.torrent`` files, for ``seed follow`` and the mirror loop.

A follower gives either the feed's URL or the site's address; a page that is not a feed
is searched for its ``<link rel="alternate">`` feed links (RSS first). RSS and Atom are
parsed by feedparser, JSON Feed 1.1 by ``json``. Each item becomes a :class:`FeedVideo`:
where its ``.torrent`` is (a BEP 36 enclosure or a JSON Feed attachment typed
``application/x-bittorrent``), its magnet link (``<torrent:magnetURI>``, or an enclosure,
link, attachment or ``url`` that is a ``magnet:`` URI) and, when the feed says so, its
info hash and size. A magnet-only item's ``.torrent`` is made from metadata its peers
send (:mod:`seed.metadata`) and checked by :func:`check_torrent` like a fetched one.

Everything from a feed is untrusted: sizes are capped while reading, only http(s) URLs
are followed, and nothing in it is ever used as a file path (see :mod:`seed.mirror`).
Every failure is a :class:`FeedError` whose message is one line for the log and status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException

import feedparser
import httpx
import libtorrent as lt

from videoswarm_content.magnet import Magnet, MagnetError, parse_magnet

from .errors import SeedError

TORRENT_TYPE = "application/x-bittorrent"
MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_TORRENT_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(10.0)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")
_HASH = re.compile(r"(?:urn:btih:)?([0-9a-fA-F]{40})\Z")


class FeedError(SeedError):
    """The site, its feed or one of its ``.torrent`` files cannot be used; the message says why."""


@dataclass(frozen=True)
class FeedVideo:
    """One item of a feed; ``key`` identifies it across polls (its info hash when the feed gives one).

    ``problem`` says why a magnet it gives cannot be used (it matters when it has no ``.torrent``).
    """

    key: str
    title: str
    torrent_url: str | None
    info_hash: str | None = None
    size: int | None = None
    magnet: Magnet | None = None
    problem: str = ""


@dataclass(frozen=True)
class Fetched:
    """A feed as fetched: ``videos`` is None when the server said it did not change (304)."""

    url: str
    videos: list[FeedVideo] | None
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Torrent:
    """A checked single-file v1 ``.torrent``."""

    data: bytes
    info_hash: str
    name: str
    size: int


def client(allow_private: bool = False) -> httpx.Client:
    """An HTTP client for one subscription's URLs; ``allow_private`` lets them reach private addresses."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True, headers={"User-Agent": "videoswarm-seed"})


def fetch(
    http: httpx.Client, url: str, etag: str | None = None, last_modified: str | None = None, discover: bool = False
) -> Fetched:
    """Fetch and parse the feed at ``url``; with ``discover``, ``url`` may also be a page linking to it."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response, body = _get(http, url, MAX_FEED_BYTES, "the feed", headers)
    if response.status_code == 304:
        return Fetched(url, None, etag, last_modified)
    final = str(response.url)
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if discover and (kind == "text/html" or body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))):
        feed_url = _feed_link(body.decode("utf-8", "replace"), final)
        if feed_url is None:
            raise FeedError(
                f'{url} is a web page with no feed link (<link rel="alternate" type='
                '"application/rss+xml">): give the feed\'s URL, or build the site with site_url set'
            )
        return fetch(http, feed_url)
    videos = _parse_json(body, final) if body.lstrip()[:1] == b"{" else _parse_xml(body, final)
    return Fetched(final, videos, response.headers.get("etag"), response.headers.get("last-modified"))


def fetch_torrent(http: httpx.Client, video: FeedVideo) -> Torrent:
    """Download and check the item's ``.torrent``: a single-file v1 torrent, with the info hash the feed gave."""
    if video.torrent_url is None:
        raise FeedError(
            video.problem
            or f"the feed gives no .torrent for it (an enclosure of type {TORRENT_TYPE}) nor a magnet link"
        )
    _, data = _get(http, video.torrent_url, MAX_TORRENT_BYTES, "its .torrent")
    return check_torrent(data, video.torrent_url, video.info_hash)


def check_torrent(data: bytes, source: str, expected: str | None) -> Torrent:
    """Check a ``.torrent`` (named ``source`` in errors): single file, v1, info hash ``expected`` if given."""
    try:
        info = lt.torrent_info(data)
    except (RuntimeError, ValueError) as error:
        raise FeedError(f"{source} is not a valid .torrent ({error})") from None
    info_hash = str(info.info_hashes().v1)
    if not info.info_hashes().has_v1():
        raise FeedError(f"{source} is a v2-only torrent; browsers need v1")
    if expected and info_hash != expected:
        raise FeedError(f"{source} has info hash {info_hash}, but the feed says {expected}")
    if info.num_files() != 1:
        raise FeedError(f"{source} holds {info.num_files()} files; a mirror takes single-file videos")
    return Torrent(data, info_hash, info.files().file_name(0), info.total_size())


def _get(
    http: httpx.Client, url: str, limit: int, what: str, headers: dict[str, str] | None = None
) -> tuple[httpx.Response, bytes]:
    if urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(f"{url!r}: {what} must be an http:// or https:// URL")
    try:
        with http.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return response, b""
            if response.status_code != 200:
                raise FeedError(f"{url}: {what} answered HTTP {response.status_code} {response.reason_phrase}")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    raise FeedError(f"{url}: {what} is larger than {limit // (1024 * 1024)} MiB")
                chunks.append(chunk)
            return response, b"".join(chunks)
    except httpx.InvalidURL as error:
        raise FeedError(f"{url!r} is not a valid URL ({error})") from None
    except httpx.HTTPError as error:
        raise FeedError(f"{url}: cannot fetch {what}: {_describe(error)}") from None


def _describe(error: httpx.HTTPError) -> str:
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    return f"{text} ({cause})" if cause and str(cause) not in text else text


def _parse_xml(body: bytes, url: str) -> list[FeedVideo]:
    parsed = feedparser.parse(body)
    problem = parsed.get("bozo_exception")
    if not parsed.get("version") or isinstance(problem, SAXException):  # feedparser guesses on broken XML
        raise FeedError(f"{url} is not an RSS, Atom or JSON feed" + (f" ({problem})" if problem else ""))
    videos = []
    for item in parsed.entries:
        enclosures = [e.get("href") for e in item.get("enclosures", [])]
        torrent = next(
            (
                e.get("href")
                for e in item.get("enclosures", [])
                if e.get("type", TORRENT_TYPE) in (TORRENT_TYPE, "") and e.get("href") and not _is_magnet(e.get("href"))
            ),
            None,
        )
        info_hash = _hash(item.get("torrent_infohash")) or _hash(item.get("id"))
        size = _int(item.get("torrent_contentlength"))
        magnets = [item.get("torrent_magneturi"), *enclosures, item.get("link")]
        videos.append(_video(url, item.get("title"), torrent, info_hash, size, magnets))
    return videos


def _parse_json(body: bytes, url: str) -> list[FeedVideo]:
    try:
        feed = json.loads(body)
    except ValueError as error:
        raise FeedError(f"{url} is not valid JSON ({error})") from None
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError(f"{url} is not a JSON Feed (no https://jsonfeed.org/version/ in 'version')")
    items = feed.get("items")
    if not isinstance(items, list):
        raise FeedError(f"{url}: the JSON Feed has no 'items' list")
    videos = []
    for item in items:
        if not isinstance(item, dict):
            continue
        attachments = [a for a in item.get("attachments") or [] if isinstance(a, dict)]
        torrent = next(
            (
                a.get("url")
                for a in attachments
                if a.get("mime_type") == TORRENT_TYPE and isinstance(a.get("url"), str) and not _is_magnet(a.get("url"))
            ),
            None,
        )
        magnets = [*(a.get("url") for a in attachments), item.get("url"), item.get("external_url")]
        videos.append(_video(url, item.get("title"), torrent, _hash(item.get("id")), None, magnets))
    return videos


def _video(
    url: str, title: object, torrent: str | None, info_hash: str | None, size: int | None, magnets: list[object]
) -> FeedVideo:
    """An item, with the first of ``magnets`` that is a ``magnet:`` URI parsed (a bad one is its problem)."""
    magnet, problem = None, ""
    text = next((m for m in magnets if _is_magnet(m)), None)
    if text is not None:
        try:
            magnet = parse_magnet(text)
        except MagnetError as error:
            problem = f"its magnet link is not usable: {error}"
    if magnet is not None and info_hash and magnet.info_hash != info_hash:
        problem = f"its magnet link has info hash {magnet.info_hash}, but the feed says {info_hash}"
        magnet = None
    if magnet is not None:
        info_hash, size = magnet.info_hash, size if size is not None else magnet.size
    torrent_url = urljoin(url, torrent) if torrent else None
    name = str(title or info_hash or torrent or "untitled")
    return FeedVideo(info_hash or torrent_url or name, name, torrent_url, info_hash, size, magnet, problem)


def _is_magnet(value: object) -> bool:
    return isinstance(value, str) and value.strip()[:7].lower() == "magnet:"


def _hash(value: object) -> str | None:
    match = _HASH.match(value.strip()) if isinstance(value, str) else None
    return match[1].lower() if match else None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


class _FeedLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "link" and "alternate" in values.get("rel", "").lower().split() and values.get("href"):
            self.links.append((values.get("type", "").lower(), values["href"]))


def _feed_link(html: str, base: str) -> str | None:
    """The page's feed link, RSS first (its items carry the info hash and size)."""
    parser = _FeedLinks()
    parser.feed(html)
    for kind in _FEED_TYPES:
        for link_type, href in parser.links:
            if link_type == kind:
                return urljoin(base, href)
    return None
