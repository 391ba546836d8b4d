"""Writing the entry ``<slug>.md`` for a file that ``seed add`` has hashed.

Front matter: ``title``, ``magnet``, ``torrent`` (the .torrent copied next to the entry,
as a relative path), ``date`` and, when known, ``duration``, ``poster`` and ``captions``. The body is a placeholder
description for the publisher to edit. Adding the same file again refreshes the magnet
and the .torrent and keeps everything the publisher wrote.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import frontmatter

from .errors import ContentError
from .files import atomic_write
from .magnet import MagnetError, parse_magnet
from .reader import read_front_matter
from .slugs import RESERVED_SLUGS, slugify

#: Writes files beside an entry, given its slug and front matter; returns the keys naming them.
Attach = Callable[[str, Mapping[str, object]], Mapping[str, object]]
_PLACEHOLDER = "Describe this video here: what it shows, who made it, where it comes from.\n"


def title_from(file_name: str) -> str:
    """A readable title: separators become spaces, and an all-lowercase name gets a capital."""
    words = re.sub(r"[\s._-]+", " ", Path(file_name).stem).strip()
    if not words:
        return file_name
    return words[0].upper() + words[1:] if words == words.lower() else words


def write_entry(
    content_dir: Path,
    file_name: str,
    info_hash: str,
    magnet: str,
    torrent: bytes,
    duration: int | None = None,
    attach: Attach | None = None,
) -> Path:
    """Create or refresh the entry for this torrent; returns the ``.md`` path.

    ``attach(slug, front_matter)`` writes files beside the entry (``seed add``'s poster and
    captions, named after the slug) and returns the front-matter keys that name them.

    Raises :class:`ContentError` if the entry to refresh cannot be read back.
    """
    content_dir.mkdir(parents=True, exist_ok=True)
    slug = _free_slug(content_dir, slugify(file_name) or f"video-{info_hash[:8]}", info_hash)
    entry = content_dir / f"{slug}.md"
    torrent_name = f"{slug}.torrent"
    if entry.exists():
        front = read_front_matter(entry)
        post = frontmatter.Post(front.body.strip())
        post.metadata.update(front.meta)
        post["magnet"] = magnet
        post["torrent"] = torrent_name
        if duration is not None and "duration" not in post.metadata:
            post["duration"] = duration
    else:
        meta: dict[str, object] = {
            "title": title_from(file_name),
            "magnet": magnet,
            "torrent": torrent_name,
            "date": datetime.date.today(),
        }
        if duration is not None:
            meta["duration"] = duration
        post = frontmatter.Post(_PLACEHOLDER)
        post.metadata.update(meta)
    if attach is not None:
        post.metadata.update(attach(slug, post.metadata))
    text = frontmatter.dumps(post, sort_keys=False, width=100_000, allow_unicode=True) + "\n"
    atomic_write(content_dir / torrent_name, torrent)
    atomic_write(entry, text.encode("utf-8"))
    return entry


def _free_slug(content_dir: Path, base: str, info_hash: str) -> str:
    """``base``, or ``base-2``, ``base-3``...: the first that is free or already this torrent's."""
    if base in RESERVED_SLUGS:
        base = f"{base}-video"
    candidate, n = base, 1
    while True:
        entry = content_dir / f"{candidate}.md"
        if not entry.exists() or _entry_hash(entry) == info_hash:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


def _entry_hash(entry: Path) -> str | None:
    try:
        return parse_magnet(read_front_matter(entry).meta.get("magnet")).info_hash
    except (ContentError, MagnetError):
        return None
