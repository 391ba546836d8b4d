"""The site's feeds: ``feed.xml`` (RSS 2.0 with BEP 36 torrent enclosures) and ``feed.json``
(JSON Feed 1.1), newest video first, for ``seed follow`` and for torrent clients' RSS readers.

RSS is written by feedgen, which escapes every field. Each item carries its ``.torrent`` as
an ``<enclosure type="application/x-bittorrent">`` whose ``length`` is the size of the
``.torrent`` (BEP 36, what qBittorrent's and transmission-rss's readers take), and its full
magnet (trackers and web seeds included) as ezRSS's ``<torrent:magnetURI>``. feedgen's own
``torrent`` extension writes a bare ``xt=`` magnet under a lowercase name, hence the small
extension here.
The poster is a Media RSS ``<media:thumbnail>``. JSON Feed has no torrent field, so the
``.torrent`` is an attachment with the same MIME type (the spec's way for any file).

Both feeds name the publisher's public key and the site's full copies (``site_mirrors:``),
so a follower can pin the key from the feed it starts with: in RSS as
``<videoswarm:siteKey>`` and ``<videoswarm:siteMirror>`` on the channel, in JSON Feed as
the ``_videoswarm`` extension object (the spec's form for extensions: a leading ``_``).
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem
from markupsafe import escape

from videoswarm_content.entry import Entry
from videoswarm_content.manifest import PATH as MANIFEST_PATH

from .metadata import safe_json

TORRENT_TYPE = "application/x-bittorrent"
RSS_PATH = "feed.xml"
JSON_PATH = "feed.json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
#: ezRSS's torrent namespace, which torrent sites' feeds and their readers use.
TORRENT_NS = "http://xmlns.ezrss.it/0.1/"
#: Our own namespace, for the site's key, copies and manifest.
VIDEOSWARM_NS = "urn:videoswarm:site:1"


@dataclass(frozen=True)
class FeedItem:
    """One video as the feeds show it; URLs are absolute."""

    entry: Entry
    page_url: str
    torrent_url: str | None
    torrent_size: int
    content_size: int | None
    poster_url: str | None
    description_html: str


@dataclass(frozen=True)
class Site:
    name: str
    url: str  # ends in '/'
    description: str
    public_key: str | None = None  # ``ed25519:<base64>``, see videoswarm_content.manifest
    site_mirrors: tuple[str, ...] = ()


def discovery_tags(site_url: str, title: str) -> str:
    """The ``<link rel="alternate">`` tags that let readers and ``seed follow`` find the feeds."""
    return (
        f'<link rel="alternate" type="application/rss+xml" title="{escape(title)}" '
        f'href="{escape(site_url + RSS_PATH)}">\n'
        f'<link rel="alternate" type="application/feed+json" title="{escape(title)}" '
        f'href="{escape(site_url + JSON_PATH)}">\n'
    )


def rss(site: Site, items: Sequence[FeedItem]) -> bytes:
    feed = FeedGenerator()
    feed.register_extension("torrent", _TorrentNamespace, _TorrentItem)
    feed.register_extension("videoswarm", _SiteChannel)
    feed.videoswarm.site = site
    feed.load_extension("media")
    feed.title(site.name)
    # In this order: feedgen takes the channel's <link> from the last link given.
    feed.link(href=site.url + RSS_PATH, rel="self", type="application/rss+xml")
    feed.link(href=site.url, rel="alternate")
    feed.description(site.description)
    feed.generator("videoswarm sitegen")
    newest = _newest(items)
    if newest is not None:
        feed.lastBuildDate(newest)
    for item in items:
        entry = item.entry
        out = feed.add_entry(order="append")
        out.title(entry.title)
        out.link(href=item.page_url)
        out.guid(f"urn:btih:{entry.magnet.info_hash}", permalink=False)
        out.description(item.description_html or entry.title)
        if entry.date is not None:
            out.pubDate(_midnight(entry.date))
        if item.torrent_url is not None:
            out.enclosure(item.torrent_url, str(item.torrent_size), TORRENT_TYPE)
        out.torrent.fields = {
            "magnetURI": entry.magnet.uri,
            "infoHash": entry.magnet.info_hash,
            "fileName": entry.magnet.name,
            "contentLength": item.content_size,
        }
        if item.poster_url is not None:
            out.media.thumbnail(url=item.poster_url)
    data: bytes = feed.rss_str(pretty=True)
    return data


def json_feed(site: Site, items: Sequence[FeedItem]) -> bytes:
    feed: dict[str, object] = {
        "version": JSON_FEED_VERSION,
        "title": site.name,
        "home_page_url": site.url,
        "feed_url": site.url + JSON_PATH,
        "description": site.description,
        "_videoswarm": {
            "site_key": site.public_key,
            "site_mirrors": list(site.site_mirrors),
            "manifest_url": site.url + MANIFEST_PATH,
        },
        "items": [_json_item(item) for item in items],
    }
    return safe_json(feed).encode() + b"\n"


def _json_item(item: FeedItem) -> dict[str, object]:
    entry = item.entry
    out: dict[str, object] = {
        "id": f"urn:btih:{entry.magnet.info_hash}",
        "url": item.page_url,
        "title": entry.title,
        "content_html": item.description_html or entry.title,
        "external_url": entry.magnet.uri,
    }
    if entry.date is not None:
        out["date_published"] = _midnight(entry.date).isoformat()
    if item.poster_url is not None:
        out["image"] = item.poster_url
    if entry.tags:
        out["tags"] = list(entry.tags)
    if item.torrent_url is not None:
        out["attachments"] = [
            {
                "url": item.torrent_url,
                "mime_type": TORRENT_TYPE,
                "title": entry.magnet.name or entry.title,
                "size_in_bytes": item.torrent_size,
            }
        ]
    return out


def _midnight(date: datetime.date) -> datetime.datetime:
    return datetime.datetime(date.year, date.month, date.day, tzinfo=datetime.UTC)


def _newest(items: Sequence[FeedItem]) -> datetime.datetime | None:
    dates = [item.entry.date for item in items if item.entry.date is not None]
    return _midnight(max(dates)) if dates else None


class _TorrentNamespace(BaseExtension):  # type: ignore[misc]
    def extend_ns(self) -> dict[str, str]:
        return {"torrent": TORRENT_NS}


class _TorrentItem(BaseEntryExtension):  # type: ignore[misc]
    """``<torrent:magnetURI>``, ``<torrent:infoHash>``, ``<torrent:fileName>``, ``<torrent:contentLength>``."""

    def __init__(self) -> None:
        self.fields: dict[str, object] = {}

    def extend_rss(self, item: object) -> object:
        for name, value in self.fields.items():
            if value is not None:
                xml_elem(f"{{{TORRENT_NS}}}{name}", item).text = str(value)
        return item


class _SiteChannel(BaseExtension):  # type: ignore[misc]
    """``<videoswarm:siteKey>``, one ``<videoswarm:siteMirror>`` per copy and ``<videoswarm:manifest>``."""

    site: Site

    def extend_ns(self) -> dict[str, str]:
        return {"videoswarm": VIDEOSWARM_NS}

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        if self.site.public_key is not None:
            xml_elem(f"{{{VIDEOSWARM_NS}}}siteKey", channel).text = self.site.public_key
        for url in self.site.site_mirrors:
            xml_elem(f"{{{VIDEOSWARM_NS}}}siteMirror", channel).text = url
        xml_elem(f"{{{VIDEOSWARM_NS}}}manifest", channel).text = self.site.url + MANIFEST_PATH
        return feed
