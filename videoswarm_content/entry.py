"""The front-matter keys of a ``<slug>.md`` and the :class:`Entry` they load into.

``title`` and ``magnet`` are required; ``torrent`` and ``poster`` are paths relative to
the Markdown file, inside the content folder; ``date`` (YYYY-MM-DD), ``duration``
(seconds) and ``tags`` (a list) are optional. ``captions`` lists WebVTT tracks beside the
entry: ``[{src: talk.en.vtt, lang: en, label: English}]`` (``lang`` and ``label`` optional).
The body is the description, in Markdown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from .magnet import Magnet

KNOWN_KEYS = frozenset({"title", "magnet", "torrent", "poster", "date", "duration", "tags", "captions"})
POSTER_TYPES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".svg"})
#: Files browsers play (MP4, WebM, Ogg): the player picks one of these from a torrent, and
#: ``seed add`` warns about any other. ``sitegen/assets/format.js`` lists the same.
PLAYABLE_EXTENSIONS = (".mp4", ".m4v", ".webm", ".ogv")


@dataclass(frozen=True)
class CaptionTrack:
    """One ``<track>``: a WebVTT file, its BCP 47 language (if known) and the name viewers pick it by."""

    path: Path
    lang: str | None
    label: str


@dataclass(frozen=True)
class Entry:
    """One video, ready to render."""

    slug: str
    source: Path
    title: str
    magnet: Magnet
    description: str
    torrent: Path | None = None
    poster: Path | None = None
    date: datetime.date | None = None
    duration: int | None = None
    tags: tuple[str, ...] = ()
    #: The line of ``source`` where the description starts, for errors found in it.
    description_line: int = 1
    captions: tuple[CaptionTrack, ...] = ()
