"""Tag pages: every tag gets ``tags/<slug>/`` listing its videos, and ``tags/`` lists the tags.

Tags are free text from the front matter, so their folder names are slugs (mkdocs'
own Markdown ``toc`` slugifier); two tags that slugify alike share a page, and a tag
with nothing left after slugifying gets a stable hash instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from markdown.extensions.toc import slugify_unicode

from videoswarm_content.entry import Entry


@dataclass
class Tag:
    name: str
    slug: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def uri(self) -> str:
        """The tag page's folder in the site."""
        return f"tags/{self.slug}/"


def tag_slug(name: str) -> str:
    slug = slugify_unicode(name, "-")
    return slug or "tag-" + hashlib.sha256(name.encode()).hexdigest()[:8]


def group_by_tag(entries: Iterable[Entry]) -> dict[str, Tag]:
    """Tag slug -> tag, its entries in the given (newest first) order; sorted by name."""
    tags: dict[str, Tag] = {}
    for entry in entries:
        slugs: dict[str, str] = {}  # an entry is listed once under tags that slugify alike, by the first of them
        for name in entry.tags:
            slugs.setdefault(tag_slug(name), name)
        for slug, name in slugs.items():
            tags.setdefault(slug, Tag(name, slug)).entries.append(entry)
    return dict(sorted(tags.items(), key=lambda item: item[1].name.casefold()))
