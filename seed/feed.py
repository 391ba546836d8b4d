"""Fetching a site's feed and its ``.torrent`` files, for ``seed follow`` and the mirror loop.

A follower gives either the feed's URL or the site's address; a page that is not a feed
is searched for its ``<link rel="alternate">`` feed links (RSS first). RSS and Atom are
parsed by feedparser, JSON Feed 1.1 by ``json``. Each item becomes a :class:`FeedVideo`:
where its ``.torrent`` is (a BEP 36 enclosure or a JSON Feed attachment typed
``application/x-bittorrent``), its magnet link (``<torrent:magnetURI>``, or an enclosure,
link, attachment or ``url`` that is a ``magnet:`` URI) and, when the feed says so, its
info hash and size. A magnet-only item's ``.torrent`` is made from metadata its peers
send (:mod:`seed.metadata`) and checked by :func:`check_torrent` like a fetched one.

Everything from a feed is untrusted: every value is type-checked, sizes, items and the
time of each fetch are capped, only http(s) URLs are followed, and only to public
addresses unless the subscription allows private ones (:mod:`seed.netguard`, checked on
every redirect hop), and nothing in it is ever used as a file path (see :mod:`seed.mirror`).
Every failure is a :class:`FeedError` whose message is one line for the log and status:
nothing else leaves this module, whatever the feed holds.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit
from xml.sax import SAXException

import feedparser
import httpcore
import httpx
import libtorrent as lt

from videoswarm_content.magnet import Magnet, MagnetError, parse_magnet

from .errors import SeedError
from .netguard import PublicOnly, is_private

TORRENT_TYPE = "application/x-bittorrent"
MAX_FEED_BYTES = 20 * 1024 * 1024
MAX_TORRENT_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(10.0)
#: Seconds one fetch may take in all, redirects and body included, however it trickles (a
#: read timeout alone let 1 byte every 3 s hold a poll for as long as the server liked).
#: 20 MiB of feed needs 350 KB/s to make it; real feeds are tens of KB. It is checked at
#: every read, so it is overrun by at most one read timeout.
DEADLINE = 60.0
#: Items read from one feed; the rest are ignored, and the feed's problem says so. A site
#: lists newest first, and 3,000 failing items meant 3,000 requests at every poll.
MAX_ITEMS = 1000
#: Redirects followed for one URL (httpx's default is 20, each hop with its own timeouts).
MAX_REDIRECTS = 5
#: Characters of an item's title kept for the log and status.
MAX_TITLE = 200
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json", "application/json")
_HASH = re.compile(r"(?:urn:btih:)?([0-9a-fA-F]{40})\Z")
_DIGITS = re.compile(r"[0-9]{1,20}")


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
    #: What was ignored of a feed that could be read (items over :data:`MAX_ITEMS`).
    problem: str = ""


@dataclass(frozen=True)
class Torrent:
    """A checked single-file v1 ``.torrent``."""

    data: bytes
    info_hash: str
    name: str
    size: int


class Client(httpx.Client):
    """An HTTP client that remembers whether its subscription may reach private addresses."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        super().__init__(
            timeout=TIMEOUT,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            headers={"User-Agent": "videoswarm-seed"},
            transport=None if allow_private else _PublicTransport(),
        )


class _PublicTransport(httpx.HTTPTransport):
    """httpx's transport over :class:`~seed.netguard.PublicOnly`, so each request and redirect
    hop is checked and pinned. No proxy from the environment: a proxy would resolve the host."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), network_backend=PublicOnly())


def client(allow_private: bool = False) -> Client:
    """An HTTP client for one subscription's URLs; ``allow_private`` lets them reach private addresses."""
    return Client(allow_private)


def fetch(
    http: httpx.Client,
    url: str,
    etag: str | None = None,
    last_modified: str | None = None,
    discover: bool = False,
    deadline: float = DEADLINE,
) -> Fetched:
    """Fetch and parse the feed at ``url``; with ``discover``, ``url`` may also be a page linking to it.

    A feed nested too deep for the parsers (RecursionError) or of any other shape is a
    :class:`FeedError` like every other problem.
    """
    try:
        return _fetch(http, url, etag, last_modified, discover, deadline)
    except RecursionError:
        raise FeedError(f"{url}: the feed nests too deep to read") from None


def _fetch(
    http: httpx.Client, url: str, etag: str | None, last_modified: str | None, discover: bool, deadline: float
) -> Fetched:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response, body = _get(http, url, MAX_FEED_BYTES, "the feed", headers, deadline)
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
        return _fetch(http, feed_url, None, None, False, deadline)
    items = _parse_json(body, final) if body.lstrip()[:1] == b"{" else _parse_xml(body, final)
    problem = (
        f"the feed lists {len(items):,} items; only the first {MAX_ITEMS:,} are read" if len(items) > MAX_ITEMS else ""
    )
    allow_private = _allows_private(http)
    videos = [_video(final, *item, allow_private) for item in items[:MAX_ITEMS]]
    return Fetched(final, videos, response.headers.get("etag"), response.headers.get("last-modified"), problem)


def fetch_torrent(http: httpx.Client, video: FeedVideo) -> Torrent:
    """Download and check the item's ``.torrent``: a single-file v1 torrent, with the info hash the feed gave."""
    if video.torrent_url is None:
        raise FeedError(
            video.problem
            or f"the feed gives no .torrent for it (an enclosure of type {TORRENT_TYPE}) nor a magnet link"
        )
    _, data = _get(http, video.torrent_url, MAX_TORRENT_BYTES, "its .torrent")
    return check_torrent(data, video.torrent_url, video.info_hash, allow_private=_allows_private(http))


def check_torrent(data: bytes, source: str, expected: str | None, *, allow_private: bool) -> Torrent:
    """Check a ``.torrent`` (named ``source`` in errors): v1, info hash ``expected`` if given, and one
    plain file at the top (no ``files`` list, even of one: libtorrent would store it in a folder the
    web seed does not serve; no pad file, no symlink). Unless ``allow_private``, no tracker or web
    seed may be a private IP literal."""
    try:
        info = lt.torrent_info(data)
        files = info.files()
        decoded = lt.bdecode(info.info_section())
        single = isinstance(decoded, dict) and b"files" not in decoded
    except (RuntimeError, ValueError, TypeError) as error:
        raise FeedError(f"{source} is not a valid .torrent ({error})") from None
    info_hash = str(info.info_hashes().v1)
    if not info.info_hashes().has_v1():
        raise FeedError(f"{source} is a v2-only torrent; browsers need v1")
    if expected and info_hash != expected:
        raise FeedError(f"{source} has info hash {info_hash}, but the feed says {expected}")
    if info.num_files() != 1:
        raise FeedError(f"{source} holds {info.num_files()} files; a mirror takes single-file videos")
    if not single:
        raise FeedError(f"{source} puts its file in a folder (a 'files' list); a mirror takes single-file torrents")
    if files.file_flags(0) & (lt.file_storage.flag_pad_file | lt.file_storage.flag_symlink):
        raise FeedError(f"{source}: its file is a pad file or a symbolic link, not a video")
    sources = lt.load_torrent_buffer(data)
    private = "" if allow_private else _private_host([*sources.trackers, *sources.url_seeds])
    if private:
        raise FeedError(f"{source}: its trackers or web seeds name {private}")
    return Torrent(data, info_hash, files.file_name(0), info.total_size())


def _allows_private(http: httpx.Client) -> bool:
    return isinstance(http, Client) and http.allow_private


def _private_host(urls: list[str]) -> str:
    """The first private IP literal among the hosts of ``urls`` (host names are left to
    libtorrent's ip_filter, which checks what they resolve to), as the refusal's text."""
    for url in urls:
        try:
            host = urlsplit(url).hostname
            if host and is_private(host):
                return f"{host}, a private address (seed follow --allow-private allows it)"
        except ValueError:  # not a URL, or not an IP literal
            continue
    return ""


def _get(
    http: httpx.Client,
    url: str,
    limit: int,
    what: str,
    headers: dict[str, str] | None = None,
    deadline: float = DEADLINE,
) -> tuple[httpx.Response, bytes]:
    try:
        scheme = urlsplit(url).scheme
    except ValueError as error:
        raise FeedError(f"{url!r} is not a valid URL ({error})") from None
    if scheme not in ("http", "https"):
        raise FeedError(f"{url!r}: {what} must be an http:// or https:// URL")
    ends = time.monotonic() + deadline
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
                if time.monotonic() > ends:
                    raise FeedError(f"{url}: {what} took over {deadline:g} s to download ({size:,} bytes by then)")
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


#: One item as read from a feed, before its URLs and magnet are checked: title, .torrent URL,
#: info hash, size and the values that may be a magnet link.
_Item = tuple[object, str | None, str | None, int | None, list[object]]


def _parse_xml(body: bytes, url: str) -> list[_Item]:
    parsed = feedparser.parse(body)
    problem = parsed.get("bozo_exception")
    if not parsed.get("version") or isinstance(problem, SAXException):  # feedparser guesses on broken XML
        raise FeedError(f"{url} is not an RSS, Atom or JSON feed" + (f" ({_one_line(problem)})" if problem else ""))
    items: list[_Item] = []
    for item in parsed.entries:
        enclosures = [e for e in item.get("enclosures", []) if isinstance(e, dict)]
        torrent = next(
            (
                e.get("href")
                for e in enclosures
                if e.get("type", TORRENT_TYPE) in (TORRENT_TYPE, "") and _is_url(e.get("href"))
            ),
            None,
        )
        info_hash = _hash(item.get("torrent_infohash")) or _hash(item.get("id"))
        size = _int(item.get("torrent_contentlength"))
        magnets = [item.get("torrent_magneturi"), *(e.get("href") for e in enclosures), item.get("link")]
        items.append((item.get("title"), torrent, info_hash, size, magnets))
    return items


def _parse_json(body: bytes, url: str) -> list[_Item]:
    try:
        feed = json.loads(body)
    except ValueError as error:
        raise FeedError(f"{url} is not valid JSON ({error})") from None
    if not isinstance(feed, dict) or not str(feed.get("version", "")).startswith("https://jsonfeed.org/version/"):
        raise FeedError(f"{url} is not a JSON Feed (no https://jsonfeed.org/version/ in 'version')")
    entries = feed.get("items")
    if not isinstance(entries, list):
        raise FeedError(f"{url}: the JSON Feed has no 'items' list")
    items: list[_Item] = []
    for item in entries:
        if not isinstance(item, dict):
            continue
        listed = item.get("attachments")
        attachments = [a for a in listed if isinstance(a, dict)] if isinstance(listed, list) else []
        torrent = next(
            (a.get("url") for a in attachments if a.get("mime_type") == TORRENT_TYPE and _is_url(a.get("url"))),
            None,
        )
        magnets = [*(a.get("url") for a in attachments), item.get("url"), item.get("external_url")]
        items.append((item.get("title"), torrent, _hash(item.get("id")), None, magnets))
    return items


def _video(
    url: str,
    title: object,
    torrent: str | None,
    info_hash: str | None,
    size: int | None,
    magnets: list[object],
    allow_private: bool,
) -> FeedVideo:
    """An item: its usable magnet and ``.torrent`` URL, or the problem with them (the URL's first)."""
    magnet, problem = _magnet(magnets, info_hash, allow_private)
    if magnet is not None:
        info_hash, size = magnet.info_hash, size if size is not None else magnet.size
    torrent_url, bad_url = _torrent_url(url, torrent)
    name = _one_line(title if isinstance(title, str) and title.strip() else info_hash or torrent or "untitled")
    return FeedVideo(
        info_hash or torrent_url or name, name[:MAX_TITLE], torrent_url, info_hash, size, magnet, bad_url or problem
    )


def _magnet(magnets: list[object], info_hash: str | None, allow_private: bool) -> tuple[Magnet | None, str]:
    """The first of ``magnets`` that is a ``magnet:`` URI, parsed and checked, or why it cannot be used."""
    text = next((m for m in magnets if _is_magnet(m)), None)
    if text is None:
        return None, ""
    try:
        magnet = parse_magnet(text)
    except MagnetError as error:
        return None, f"its magnet link is not usable: {error}"
    if info_hash and magnet.info_hash != info_hash:
        return None, f"its magnet link has info hash {magnet.info_hash}, but the feed says {info_hash}"
    private = "" if allow_private else _private_host([*magnet.trackers, *magnet.web_seeds])
    if private:
        return None, f"its magnet link's trackers or web seeds name {private}"
    return magnet, ""


def _torrent_url(url: str, torrent: str | None) -> tuple[str | None, str]:
    """The item's ``.torrent`` URL resolved against the feed's, or why it is not a valid URL."""
    if not torrent:
        return None, ""
    try:
        torrent_url = urljoin(url, torrent)
        urlsplit(torrent_url).port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError as error:
        return None, f"its .torrent URL {torrent!r} is not valid ({error})"
    return torrent_url, ""


def _one_line(value: object) -> str:
    """Text from a feed (or an error about it) as one line: its whitespace and control characters collapsed."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())


def _is_url(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not _is_magnet(value)


def _is_magnet(value: object) -> bool:
    return isinstance(value, str) and value.strip()[:7].lower() == "magnet:"


def _hash(value: object) -> str | None:
    match = _HASH.match(value.strip()) if isinstance(value, str) else None
    return match[1].lower() if match else None


def _int(value: object) -> int | None:
    """A size: ASCII digits only (``str.isdigit`` also takes ``²``, which ``int`` refuses)."""
    return int(value) if isinstance(value, str) and _DIGITS.fullmatch(value.strip()) else None


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
                try:
                    return urljoin(base, href)
                except ValueError as error:
                    raise FeedError(f"{base}: its feed link {href!r} is not a valid URL ({error})") from None
    return None
