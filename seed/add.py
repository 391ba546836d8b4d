"""``seed add``: check every input first, then hash each file, record it and write its entry.

Nothing is written until every file, URL and directory has been checked, so bad input
leaves the state and content directories as they were. Adding a file again gives the
same info hash (it covers only the file's name and bytes), so it is harmless: the
record, the .torrent's trackers and web seeds, and the entry's magnet are refreshed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from videoswarm_content.errors import ContentError
from videoswarm_content.files import writable_problem
from videoswarm_content.magnet import magnet_uri, web_seed_url
from videoswarm_content.schemes import HTTP_SCHEMES, TRACKER_SCHEMES, has_scheme, spelled
from videoswarm_content.writer import write_entry

from . import media
from .errors import SeedError
from .state import State
from .torrent import make_torrent


@dataclass(frozen=True)
class AddOptions:
    trackers: Sequence[str]
    #: Web seed base URLs; each file is served at ``<base>/<url-encoded file name>``.
    web_seeds: Sequence[str] = ()
    content_dir: Path = Path("content")
    progress: bool = True


@dataclass(frozen=True)
class Added:
    path: Path
    info_hash: str
    magnet: str
    entry: Path


def check_url(url: str, schemes: Sequence[str], what: str) -> str:
    """``url`` if it is an absolute URL with one of ``schemes``, else a usage error naming it."""
    if not has_scheme(url, schemes):
        raise SeedError(f"{what} {url!r} is not a {spelled(schemes)} URL", exit_code=2)
    return url


def check_file(path: Path) -> None:
    """A regular, non-empty file this process can read."""
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
    for path in files:
        yield _add_one(state, path, options, warn)


def _add_one(state: State, path: Path, options: AddOptions, warn: Callable[[str], None]) -> Added:
    probe = media.probe(path)
    if probe.problem:
        warn(f"{path}: {probe.problem}; adding it anyway")
    before = os.stat(path)
    web_seeds = [web_seed_url(base, path.name) for base in options.web_seeds]
    torrent = make_torrent(path, options.trackers, web_seeds, progress=options.progress)
    record = state.add(torrent, path, before)
    magnet = magnet_uri(record.info_hash, path.name, options.trackers, web_seeds)
    try:
        entry = write_entry(options.content_dir, path.name, record.info_hash, magnet, torrent, probe.duration)
    except ContentError as error:
        raise SeedError(f"cannot refresh its content entry: {error}") from None
    return Added(path, record.info_hash, magnet, entry)
