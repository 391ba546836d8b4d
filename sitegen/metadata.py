"""Sharing metadata of a video page: Open Graph, Twitter player card, schema.org JSON-LD, oEmbed.

Chat apps, social sites and CMSs read these to show a preview or embed the player.
All of them want absolute URLs, so they come from ``site_url``; without it the page
keeps only what needs no URL (title, description, the JSON-LD's name and dates).

Every value is user text (titles, descriptions) or built from it, so nothing here is
trusted: ``<meta>`` values are escaped by the template's autoescape, and both JSON
documents are written with ``<``, ``>`` and ``&`` as ``\\u`` escapes, so a title
holding ``</script>`` cannot end the JSON-LD element, and an oEmbed consumer that
pastes a value into HTML gets no markup from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from videoswarm_content.entry import Entry

#: The player's size in embed snippets, og:video and oEmbed (16:9).
EMBED_WIDTH, EMBED_HEIGHT = 640, 360
_JSON_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026", ord("'"): "\\u0027"}


@dataclass(frozen=True)
class VideoLinks:
    """The absolute URLs of one video's files (or None when the site has no ``site_url``)."""

    page: str
    embed: str
    oembed: str
    poster: str | None


@dataclass(frozen=True)
class VideoMetadata:
    #: ``(attribute, name, content)`` for each ``<meta>``: ``("property", "og:title", ...)``.
    meta: list[tuple[str, str, str]]
    #: The JSON-LD document, safe to print inside ``<script type="application/ld+json">``.
    json_ld: Markup
    #: The oEmbed document and its URL, or None without absolute URLs.
    oembed: str | None
    oembed_url: str | None


def safe_json(data: Any) -> str:
    """JSON that cannot end a ``<script>`` element or open markup wherever it is pasted."""
    return json.dumps(data, ensure_ascii=False, indent=1).translate(_JSON_ESCAPES)


def iso_duration(seconds: int) -> str:
    """ISO 8601 duration, as schema.org wants it: ``PT1H2M5S``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return (
        "PT" + "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
        if seconds
        else "PT0S"
    )


def iframe(src: str, title: str) -> str:
    """The embed code: an escaped ``<iframe>`` of the player."""
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="{EMBED_WIDTH}" height="{EMBED_HEIGHT}" '
        'allow="autoplay; fullscreen" allowfullscreen frameborder="0"></iframe>'
    )


def video_metadata(entry: Entry, summary: str, site_name: str, links: VideoLinks | None) -> VideoMetadata:
    """Everything a video page tells other sites about itself. ``summary`` is plain text."""
    meta = [
        ("property", "og:type", "video.other"),
        ("property", "og:site_name", site_name),
        ("property", "og:title", entry.title),
        ("property", "og:description", summary),
        ("name", "twitter:title", entry.title),
        ("name", "twitter:description", summary),
    ]
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": entry.title,
        "description": summary or entry.title,
    }
    if entry.date:
        ld["uploadDate"] = entry.date.isoformat()
        meta.append(("property", "video:release_date", entry.date.isoformat()))
    if entry.duration is not None:
        ld["duration"] = iso_duration(entry.duration)
        meta.append(("property", "video:duration", str(entry.duration)))
    if entry.tags:
        ld["keywords"] = ", ".join(entry.tags)
    if links is None:
        return VideoMetadata(meta, Markup(safe_json(ld)), None, None)

    size = [str(EMBED_WIDTH), str(EMBED_HEIGHT)]
    meta += [
        ("property", "og:url", links.page),
        ("property", "og:video", links.embed),
        ("property", "og:video:secure_url", links.embed),
        ("property", "og:video:type", "text/html"),
        ("property", "og:video:width", size[0]),
        ("property", "og:video:height", size[1]),
        ("name", "twitter:card", "player"),
        ("name", "twitter:player", links.embed),
        ("name", "twitter:player:width", size[0]),
        ("name", "twitter:player:height", size[1]),
    ]
    ld.update(url=links.page, embedUrl=links.embed)
    oembed: dict[str, Any] = {
        "version": "1.0",
        "type": "video",
        "provider_name": site_name,
        "title": entry.title,
        "width": EMBED_WIDTH,
        "height": EMBED_HEIGHT,
        "html": iframe(links.embed, entry.title),
    }
    if links.poster:
        meta += [("property", "og:image", links.poster), ("name", "twitter:image", links.poster)]
        # Not in the oEmbed document: it needs the picture's size, which the build does not read.
        ld["thumbnailUrl"] = [links.poster]
    return VideoMetadata(meta, Markup(safe_json(ld)), safe_json(oembed), links.oembed)
