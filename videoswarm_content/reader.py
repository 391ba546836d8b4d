"""Loading the content folder: every ``<slug>.md``, checked, into :class:`~.entry.Entry` values.

Every problem becomes a :class:`~.errors.ContentError` naming the file and, where known,
the line of the key at fault.
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

from .entry import KNOWN_KEYS, POSTER_TYPES, CaptionTrack, Entry
from .errors import ContentError, ContentErrors
from .files import outside_problem
from .magnet import Magnet, MagnetError, parse_magnet
from .slugs import slug_problem

#: libyaml's parser when PyYAML has it: YAML parsing was most of the site build's time.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CAPTION_KEYS = frozenset({"src", "lang", "label"})
#: Characters XML 1.0 cannot hold (so the site's RSS feed could not be written), and that
#: Python-Markdown uses as its own placeholders (``\x02``, ``\x03``): C0 controls but tab,
#: newline and carriage return, DEL, and the non-characters U+FFFE and U+FFFF.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file split: its front matter as a mapping and as text, and its body."""

    meta: dict[str, Any]
    text: str
    body: str
    #: The line where the body's text starts.
    body_line: int


def entry_sources(content_dir: Path) -> list[Path]:
    """The Markdown files that are videos: ``*.md`` directly in the folder, sorted."""
    return sorted(p for p in content_dir.glob("*.md") if p.is_file())


def load_entries(content_dir: Path) -> list[Entry]:
    """Load every entry, newest first; raise :class:`ContentErrors` listing every bad one."""
    entries: list[Entry] = []
    errors: list[ContentError] = []
    for path in entry_sources(content_dir):
        try:
            entries.append(load_entry(path))
        except ContentError as error:
            errors.append(error)
    if errors:
        raise ContentErrors(errors)
    return sorted(entries, key=lambda e: (e.date or datetime.date.min, e.slug), reverse=True)


def load_entry(path: Path) -> Entry:
    """Load and check one ``<slug>.md``."""
    slug = path.stem
    problem = slug_problem(slug) or outside_problem(path, path.parent)
    if problem:
        raise ContentError(problem, path)
    front = read_front_matter(path)
    field = _Fields(path, front)

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
        description=front.body.strip(),
        torrent=torrent,
        poster=field.file("poster", POSTER_TYPES),
        date=field.date("date"),
        duration=field.duration("duration"),
        tags=field.tags("tags"),
        description_line=front.body_line,
        captions=field.captions("captions"),
    )


def read_front_matter(path: Path) -> FrontMatter:
    """Read and split one Markdown file; :class:`ContentError` says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ContentError(f"not UTF-8 text ({error.reason} at byte {error.start})", path) from None
    except OSError as error:
        raise ContentError(f"cannot read it: {error.strerror}", path) from None
    control = _CONTROL.search(text)
    if control:
        raise ContentError(
            f"holds the control character U+{ord(control[0]):04X}; remove it (an editor may show it as a box)",
            path,
            text.count("\n", 0, control.start()) + 1,
        )
    handler = YAMLHandler()
    if not handler.detect(text):
        raise ContentError("no YAML front matter: start the file with a '---' line, then title: and magnet:", path, 1)
    try:
        front, body = handler.split(text)
    except ValueError:
        raise ContentError("front matter is not closed by a '---' line", path, 1) from None
    try:
        meta = yaml.load(front, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        context = getattr(error, "context_mark", None)
        if mark is not None and mark.index >= len(front.rstrip()) and context is not None:
            mark = context  # "unexpected end": point at what was left open instead
        problem = getattr(error, "problem", None) or str(error)
        raise ContentError(f"bad YAML in front matter: {problem}", path, mark.line + 1 if mark else None) from None
    if not isinstance(meta, dict):
        raise ContentError("front matter must be a mapping of keys (title:, magnet:, ...)", path, 1)
    before_body = text[: len(text) - len(body.lstrip())]
    return FrontMatter(meta, front, body, before_body.count("\n") + 1)


class _Fields:
    """Typed access to front matter keys, with errors that point at the key's line."""

    def __init__(self, path: Path, front: FrontMatter) -> None:
        self.path = path
        self.meta = front.meta
        self._front = front.text
        unknown = sorted(str(k) for k in self.meta if k not in KNOWN_KEYS)
        if unknown:
            raise self.error(unknown[0], f"unknown key {unknown[0]!r} (known: {', '.join(sorted(KNOWN_KEYS))})")

    @functools.cached_property
    def lines(self) -> dict[str, int]:
        """The line of each key; parsed again only when an error needs it (most builds never do)."""
        # The front matter starts right after the opening '---', so YAML's line 0 is the file's line 1.
        node = yaml.compose(self._front, Loader=_Loader)
        if not isinstance(node, yaml.MappingNode):
            return {}
        return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}

    def error(self, key: str, message: str) -> ContentError:
        return ContentError(message, self.path, self.lines.get(key))

    def require(self, key: str) -> Any:
        value = self.meta.get(key)
        if value is None or value == "":
            raise ContentError(f"missing {key!r} in front matter", self.path, self.lines.get(key))
        return value

    def required_string(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.error(key, f"{key!r} must be text")
        return str(value).strip()

    def file(self, key: str, suffixes: Iterable[str]) -> Path | None:
        value = self.meta.get(key)
        return None if value is None else self.relative_file(key, value, suffixes)

    def relative_file(self, key: str, value: object, suffixes: Iterable[str]) -> Path:
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
        outside = outside_problem(target, self.path.parent)
        if outside:
            raise self.error(key, f"{key} {target} {outside}")
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

    def captions(self, key: str) -> tuple[CaptionTrack, ...]:
        value = self.meta.get(key)
        if value is None:
            return ()
        shape = f"{key!r} must be a list like [{{src: talk.en.vtt, lang: en, label: English}}]"
        if not isinstance(value, list) or not all(isinstance(c, dict) and "src" in c for c in value):
            raise self.error(key, shape)
        tracks = []
        for item in value:
            lang, label = item.get("lang"), item.get("label")
            if not isinstance(lang, str | None) or not isinstance(label, str | None) or set(item) - _CAPTION_KEYS:
                raise self.error(key, shape)
            path = self.relative_file(key, item["src"], (".vtt",))
            tracks.append(CaptionTrack(path, lang, label or lang or "Captions"))
        return tuple(tracks)


def _check_torrent(path: Path, magnet: Magnet, field: _Fields) -> None:
    try:
        torrent = torf.Torrent.read(str(path))
    except torf.TorfError as error:
        raise field.error("torrent", f"not a valid .torrent file: {path}: {error}") from None
    if torrent.infohash.lower() != magnet.info_hash:
        raise field.error(
            "torrent", f"{path} has info hash {torrent.infohash.lower()}, but the magnet says {magnet.info_hash}"
        )
