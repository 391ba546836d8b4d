"""The content folder: one ``<slug>.md`` per video, loaded and checked.

Front matter (YAML): ``title`` and ``magnet`` are required; ``torrent`` and ``poster``
are paths relative to the Markdown file; ``date`` (YYYY-MM-DD), ``duration`` (seconds)
and ``tags`` (a list) are optional; ``captions`` lists WebVTT files as
``[{src: talk.en.vtt, lang: en, label: English}]`` (``label`` defaults to ``lang``).
The body is the description, in Markdown.

Every problem becomes a :class:`SitegenError` naming the file and, where known, the line.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torf
import yaml
from frontmatter.default_handlers import YAMLHandler

from .errors import ContentErrors, SitegenError
from .magnet import Magnet, MagnetError, parse_magnet

#: Slugs become folder names and URLs.
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
#: Folders the site itself uses.
RESERVED_SLUGS = frozenset({"index", "embed", "share", "publish", "assets", "webtorrent", "sw.js", "tags"})
KNOWN_KEYS = frozenset({"title", "magnet", "torrent", "poster", "date", "duration", "tags", "captions"})
#: libyaml's parser when PyYAML has it: YAML parsing was most of the plugin's build time.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_POSTER_TYPES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif", ".svg"})
#: A BCP 47 language tag as <track srclang> takes it: en, fr, pt-BR, zh-Hant.
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*\Z")


@dataclass(frozen=True)
class Caption:
    """A WebVTT file shown as a ``<track>`` of the video."""

    src: Path
    lang: str
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
    captions: tuple[Caption, ...] = ()


def entry_sources(content_dir: Path) -> list[Path]:
    """The Markdown files that are videos: ``*.md`` directly in the folder, sorted."""
    return sorted(p for p in content_dir.glob("*.md") if p.is_file())


def load_entries(content_dir: Path) -> list[Entry]:
    """Load every entry; raise :class:`ContentErrors` listing every bad one."""
    entries: list[Entry] = []
    errors: list[SitegenError] = []
    for path in entry_sources(content_dir):
        try:
            entries.append(load_entry(path))
        except SitegenError as error:
            errors.append(error)
    if errors:
        raise ContentErrors(errors)
    return sorted(entries, key=lambda e: (e.date or datetime.date.min, e.slug), reverse=True)


def load_entry(path: Path) -> Entry:
    """Load and check one ``<slug>.md``."""
    slug = path.stem
    if not _SLUG.match(slug) or slug.lower() in RESERVED_SLUGS:
        raise SitegenError(f"file name {slug!r} cannot be a page's folder: use letters, digits, '.', '_', '-', "
                           f"and none of {', '.join(sorted(RESERVED_SLUGS))}", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise SitegenError(f"not UTF-8 text ({error.reason} at byte {error.start})", path) from None
    meta, front, body = _split(text, path)
    field = _Fields(path, meta, front)

    title = field.required_string("title")
    try:
        magnet = parse_magnet(field.require("magnet"))
    except MagnetError as error:
        raise field.error("magnet", f"malformed magnet: {error}") from None
    torrent = field.file("torrent", (".torrent",))
    if torrent is not None:
        _check_torrent(torrent, magnet, field)
    return Entry(
        slug=slug,
        source=path,
        title=title,
        magnet=magnet,
        description=body.strip(),
        torrent=torrent,
        poster=field.file("poster", _POSTER_TYPES),
        date=field.date("date"),
        duration=field.duration("duration"),
        tags=field.tags("tags"),
        captions=field.captions("captions"),
    )


def _split(text: str, path: Path) -> tuple[dict[str, Any], str, str]:
    """Front matter as a dict and as text, and the body."""
    handler = YAMLHandler()
    if not handler.detect(text):
        raise SitegenError("no YAML front matter: start the file with a '---' line, then title: and magnet:", path, 1)
    try:
        front, body = handler.split(text)
    except ValueError:
        raise SitegenError("front matter is not closed by a '---' line", path, 1) from None
    try:
        meta = yaml.load(front, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is not None and mark.index >= len(front.rstrip()) and getattr(error, "context_mark", None):
            mark = error.context_mark  # "unexpected end": point at what was left open instead
        problem = getattr(error, "problem", None) or str(error)
        raise SitegenError(f"bad YAML in front matter: {problem}", path,
                           mark.line + 1 if mark else None) from None
    if not isinstance(meta, dict):
        raise SitegenError("front matter must be a mapping of keys (title:, magnet:, ...)", path, 1)
    return meta, front, body


class _Fields:
    """Typed access to front matter keys, with errors that point at the key's line."""

    def __init__(self, path: Path, meta: dict[str, Any], front: str) -> None:
        self.path = path
        self.meta = meta
        self._front = front
        unknown = sorted(str(k) for k in meta if k not in KNOWN_KEYS)
        if unknown:
            raise self.error(unknown[0], f"unknown key {unknown[0]!r} (known: {', '.join(sorted(KNOWN_KEYS))})")

    @functools.cached_property
    def lines(self) -> dict[str, int]:
        """The line of each key; parsed again only when an error needs it (most builds never do)."""
        # ``front`` starts right after the opening '---', so YAML's line 0 is the file's line 1.
        node = yaml.compose(self._front, Loader=_Loader)
        return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}

    def error(self, key: str, message: str) -> SitegenError:
        return SitegenError(message, self.path, self.lines.get(key))

    def require(self, key: str) -> Any:
        value = self.meta.get(key)
        if value is None or value == "":
            raise SitegenError(f"missing {key!r} in front matter", self.path, self.lines.get(key))
        return value

    def required_string(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(key, f"{key!r} must be text")
        return str(value).strip()

    def file(self, key: str, suffixes: Iterable[str], value: object = None) -> Path | None:
        value = self.meta.get(key) if value is None else value
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"{key!r} must be a path relative to this file")
        relative = Path(value.strip())
        if relative.is_absolute() or ".." in relative.parts:
            raise self.error(key, f"{key!r} must be a path inside the content folder, not {value!r}")
        if relative.suffix.lower() not in set(suffixes):
            raise self.error(key, f"{key!r} must end in one of {', '.join(sorted(suffixes))}, not {value!r}")
        target = self.path.parent / relative
        if not target.is_file():
            raise self.error(key, f"{key} file not found: {target}")
        return target

    def date(self, key: str) -> datetime.date | None:
        value = self.meta.get(key)
        if value is None or isinstance(value, datetime.date):
            return value.date() if isinstance(value, datetime.datetime) else value
        try:
            return datetime.date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"{key!r} must be a date like 2025-01-31, not {value!r}") from None

    def duration(self, key: str) -> int | None:
        value = self.meta.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, f"{key!r} must be a whole number of seconds, not {value!r}")
        return value

    def tags(self, key: str) -> tuple[str, ...]:
        value = self.meta.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(t, str | int) for t in value):
            raise self.error(key, f"{key!r} must be a list of words, like [music, live]")
        return tuple(str(t) for t in value)


    def captions(self, key: str) -> tuple[Caption, ...]:
        value = self.meta.get(key)
        if value is None:
            return ()
        shape = f"{key!r} must be a list like [{{src: talk.en.vtt, lang: en, label: English}}]"
        if not isinstance(value, list) or not all(isinstance(item, dict) and "src" in item for item in value):
            raise self.error(key, shape)
        captions = []
        for item in value:
            lang, label = item.get("lang"), item.get("label", item.get("lang"))
            if not isinstance(lang, str) or not _LANG.match(lang):
                raise self.error(key, f"each caption needs a language like en or pt-BR in lang:, not {lang!r}")
            if not isinstance(label, str | int) or not str(label).strip():
                raise self.error(key, f"a caption's label must be text, not {label!r}")
            src = self.file(key, (".vtt",), item["src"])
            assert src is not None
            captions.append(Caption(src, lang, str(label).strip()))
        return tuple(captions)


def _check_torrent(path: Path, magnet: Magnet, field: _Fields) -> None:
    try:
        torrent = torf.Torrent.read(str(path))
    except torf.TorfError as error:
        raise field.error("torrent", f"not a valid .torrent file: {path}: {error}") from None
    if torrent.infohash.lower() != magnet.info_hash:
        raise field.error("torrent", f"{path} has info hash {torrent.infohash.lower()}, "
                                     f"but the magnet says {magnet.info_hash}")
