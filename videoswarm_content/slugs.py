"""Slugs: an entry's file name without ``.md``, which becomes its page's folder and URL."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
#: Names the site itself uses, at its top level.
RESERVED_SLUGS = frozenset({"index", "embed", "share", "publish", "assets", "webtorrent", "sw.js", "tags"})


def slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot be a page's folder, or None."""
    if _SLUG.match(slug) and slug.lower() not in RESERVED_SLUGS:
        return None
    return (
        f"file name {slug!r} cannot be a page's folder: use letters, digits, '.', '_', '-', "
        f"and none of {', '.join(sorted(RESERVED_SLUGS))}"
    )


def slugify(file_name: str) -> str:
    """Lowercase ASCII words of the name, joined by ``-``: ``Big Buck Bunny (2008).mp4`` → ``big-buck-bunny-2008``."""
    stem = Path(file_name).stem
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    return "-".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))
