"""``seed add``: check every input first, then hash each file, record it and write its entry.

Nothing is written until every file, URL and directory has been checked, so bad input
leaves the state and content directories as they were. Adding a file again gives the
same info hash (it covers only the file's name and bytes), so it is harmless: the
record, the .torrent's trackers and web seeds, and the entry's magnet are refreshed.

A video that would not stream as it is gets a streaming-ready copy in the state
directory (``media/<key>/<name>``, see :mod:`.media`), and the copy is seeded; adding the
same unchanged file again reuses the copy. The entry gets a poster made from the video
(unless it names one) and the caption files found beside the video (:mod:`.captions`).
Two seeded files may not share a name: the web seed serves each at ``/<name>``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from videoswarm_content.errors import ContentError
from videoswarm_content.files import atomic_write, writable_problem
from videoswarm_content.magnet import magnet_uri, web_seed_url
from videoswarm_content.schemes import HTTP_SCHEMES, TRACKER_SCHEMES, has_scheme, spelled
from videoswarm_content.writer import write_entry

from . import captions, media, mirror
from .errors import SeedError
from .state import State, info_hash_of
from .torrent import make_torrent


@dataclass(frozen=True)
class AddOptions:
    trackers: Sequence[str]
    #: Web seed base URLs; each file is served at ``<base>/<url-encoded file name>``.
    web_seeds: Sequence[str] = ()
    content_dir: Path = Path("content")
    progress: bool = True
    #: Make an H.264/AAC MP4 of a video that browsers cannot play, rather than only warn.
    transcode: bool = False


@dataclass(frozen=True)
class Added:
    path: Path
    info_hash: str
    magnet: str
    entry: Path
    #: The file being seeded: ``path`` itself, or its streaming-ready copy.
    seeded: Path
    #: How the copy was made ("remuxed", "transcoded"), None when ``path`` is seeded as it is.
    made: str | None = None


@dataclass(frozen=True)
class _Plan:
    """One file, checked: what to seed and what goes beside its entry."""

    source: Path
    probe: media.Probe
    captions: list[captions.Caption]
    seeded: Path
    convert: str | None  # "remux" or "transcode"


def check_url(url: str, schemes: Sequence[str], what: str) -> str:
    """``url`` if it is an absolute URL with one of ``schemes``, else a usage error naming it."""
    if not has_scheme(url, schemes):
        raise SeedError(f"{what} {url!r} is not a {spelled(schemes)} URL", exit_code=2)
    return url


def check_file(path: Path) -> None:
    """A regular, non-empty file this process can read, whose name is UTF-8 (as torrents and magnets need)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise SeedError(
            f"{shown}: the file name is not UTF-8, which torrents and magnet links need: rename the file", exit_code=2
        ) from None
    if not path.exists():
        raise SeedError(f"{path}: no such file", exit_code=2)
    if path.is_dir():
        raise SeedError(f"{path}: is a directory, not a video file", exit_code=2)
    if not path.is_file():
        raise SeedError(f"{path}: not a regular file", exit_code=2)
    try:
        with path.open("rb") as stream:
            stream.read(1)
    except OSError as error:
        raise SeedError(f"{path}: cannot read it: {error.strerror}", exit_code=2) from None
    if path.stat().st_size == 0:
        raise SeedError(f"{path}: is empty", exit_code=2)


def add(state: State, files: Sequence[Path], options: AddOptions, warn: Callable[[str], None]) -> Iterator[Added]:
    """Check everything, then add the files one by one (each is complete once yielded)."""
    for url in options.trackers:
        check_url(url, TRACKER_SCHEMES, "tracker")
    for url in options.web_seeds:
        check_url(url, HTTP_SCHEMES, "web seed")
    for path in files:
        check_file(path)
    problem = writable_problem(options.content_dir)
    if problem:
        raise SeedError(f"content directory {options.content_dir} cannot be written: {problem}")
    plans = [_plan(state, path, options, warn) for path in files]
    _check_names(state, plans)
    for plan in plans:
        yield _add_one(state, plan, options, warn)


def _plan(state: State, path: Path, options: AddOptions, warn: Callable[[str], None]) -> _Plan:
    probe = media.probe(path)
    name = media.output_name(path, probe, options.transcode)
    convert = None if name is None else "remux" if probe.remux else "transcode"
    if probe.problem and convert is None:
        hint = "; `seed add --transcode` makes an H.264/AAC MP4 of it" if probe.has_video else ""
        warn(f"{path}: {probe.problem}; adding it anyway{hint}")
    seeded = path.absolute() if name is None else _copy_dir(state, path) / name
    return _Plan(path, probe, captions.find(path, warn), seeded, convert)


def _copy_dir(state: State, source: Path) -> Path:
    """Where the streaming-ready copy of ``source`` lives: one folder per source path."""
    key = hashlib.sha256(os.fsencode(source.absolute())).hexdigest()[:16]
    return state.root / "media" / key


def _check_names(state: State, plans: Sequence[_Plan]) -> None:
    """Refuse a second file with a name already seeded: both would share one web-seed URL."""
    taken = {r.name: r.path for r in state.records() if r.path.exists()}
    for plan in plans:
        name = plan.seeded.name
        other = taken.setdefault(name, plan.seeded)
        if other != plan.seeded:
            raise SeedError(
                f"{plan.source}: another seeded file is named {name!r} ({other}); the web seed serves "
                "files by name, so both would share one URL: rename one of them",
                exit_code=2,
            )


def _check_mirrored(state: State, source: Path, name: str, info_hash: str) -> None:
    """Refuse a name that a mirrored video has, unless it is the same video (then yours is seeded instead)."""
    other = mirror.names(state).get(name)
    if other is not None and other[0] != info_hash:
        raise SeedError(
            f"{source}: a video mirrored from {other[1]} is named {name!r}; the web seed serves files by "
            "name, so both would share one URL: rename yours",
            exit_code=2,
        )


def _add_one(state: State, plan: _Plan, options: AddOptions, warn: Callable[[str], None]) -> Added:
    made = _make_copy(state, plan, options) if plan.convert else None
    seeded = plan.seeded
    before = os.stat(seeded)
    web_seeds = [web_seed_url(base, seeded.name) for base in options.web_seeds]
    torrent = make_torrent(seeded, options.trackers, web_seeds, progress=options.progress)
    _check_mirrored(state, plan.source, seeded.name, info_hash_of(torrent))
    record = state.add(torrent, seeded, before)
    magnet = magnet_uri(record.info_hash, seeded.name, options.trackers, web_seeds)

    def attach(slug: str, front: Mapping[str, object]) -> dict[str, object]:
        return _attach(options.content_dir, slug, front, plan, warn)

    try:
        entry = write_entry(
            options.content_dir, seeded.name, record.info_hash, magnet, torrent, plan.probe.seconds, attach
        )
    except ContentError as error:
        raise SeedError(f"cannot refresh its content entry: {error}") from None
    return Added(plan.source, record.info_hash, magnet, entry, seeded, made)


def _make_copy(state: State, plan: _Plan, options: AddOptions) -> str:
    """Remux or transcode into the state directory, unless the copy of this very file is there."""
    made = "remuxed" if plan.convert == "remux" else "transcoded"
    before = os.stat(plan.source)
    note = plan.seeded.parent / "source.json"
    fingerprint = {
        "path": str(plan.source.absolute()),
        "size": before.st_size,
        "mtime_ns": before.st_mtime_ns,
        "made": made,
    }
    try:
        if plan.seeded.is_file() and json.loads(note.read_text(encoding="utf-8")) == fingerprint:
            return made
    except (OSError, ValueError):
        pass
    state.prepare()
    try:
        if plan.convert == "remux":
            media.remux(plan.source, plan.seeded)
        else:
            media.transcode(plan.source, plan.seeded, plan.probe.duration, options.progress)
    except BaseException:
        for folder in (plan.seeded.parent, plan.seeded.parent.parent):  # media/<key>, then media
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()  # nothing half-made stays behind
        raise
    atomic_write(note, json.dumps(fingerprint).encode() + b"\n")
    return made


def _attach(
    content_dir: Path, slug: str, front: Mapping[str, object], plan: _Plan, warn: Callable[[str], None]
) -> dict[str, object]:
    """Write the captions and the poster beside the entry; the front-matter keys that name them."""
    keys: dict[str, object] = {}
    if plan.captions:
        listed = []
        for caption in plan.captions:
            atomic_write(content_dir / caption.file_name(slug), caption.vtt)
            listed.append(
                {
                    "src": caption.file_name(slug),
                    **({"lang": caption.lang} if caption.lang else {}),
                    "label": caption.label,
                }
            )
        keys["captions"] = listed
    if "poster" not in front and plan.probe.has_video:
        target = content_dir / f"{slug}.jpg"
        try:
            media.poster(plan.seeded, target, plan.probe.duration)
            keys["poster"] = target.name
        except SeedError as error:
            warn(f"{error}; the entry has no poster")
        except OSError as error:
            warn(f"{target}: cannot write the poster: {error.strerror}; the entry has no poster")
    return keys
