"""The state directory: what ``seed add`` records and ``seed run`` seeds.

Layout (one directory per seeder, ``--state``: see ``seed/settings.py``)::

    seed-state.json          {"format": 1}: marks the directory as ours
    torrents/<hash>.torrent  the v1 .torrent, exactly as hashed
    torrents/<hash>.json     where the file lives and what it looked like when hashed:
                             {"path", "relative", "size", "mtime_ns", "added"}
    resume/<hash>.resume     libtorrent resume data, so a restart does not re-hash
    status.json              the running seeder's latest status (see status.py)

Every write goes to a temporary file in the same directory and is renamed over the
target, so a crash or a full disk never leaves half a file for the next start to trip on.
The ``.json`` record is written after the ``.torrent``, and a running seeder only looks
at records, so it never sees a torrent without its file location. The recorded size and
modification time let ``seed run`` refuse a file that changed after it was hashed,
rather than serve pieces that no longer match the torrent.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass
from pathlib import Path

import libtorrent as lt

from videoswarm_content.files import atomic_write, writable_problem

from .errors import SeedError

FORMAT = 1
_MARKER = "seed-state.json"


@dataclass(frozen=True)
class Record:
    """One seeded file: its torrent, where the file is on disk, and its size and mtime when hashed."""

    info_hash: str
    torrent: bytes
    path: Path
    size: int
    mtime_ns: int

    @property
    def name(self) -> str:
        return self.path.name

    def file_problem(self) -> str | None:
        """Why the file can no longer be served as hashed, or None if it looks the same."""
        try:
            now = self.path.stat()
        except OSError as error:
            return f"cannot read {self.path}: {error.strerror}"
        if now.st_size != self.size:
            return f"{self.path} changed size since `seed add` ({self.size} -> {now.st_size} bytes)"
        if now.st_mtime_ns != self.mtime_ns:
            return f"{self.path} was modified after `seed add`"
        return None


class State:
    """A validated state directory. Construct with :meth:`open`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def torrents_dir(self) -> Path:
        return self.root / "torrents"

    @property
    def resume_dir(self) -> Path:
        return self.root / "resume"

    @property
    def status_file(self) -> Path:
        return self.root / "status.json"

    @classmethod
    def open(cls, root: Path, create: bool = True) -> State:
        """Check ``root`` is a usable state directory without changing it.

        Raises :class:`SeedError` if it is not a directory, not writable, or holds
        files this seeder cannot read back (a corrupt directory). A directory that
        does not exist yet is fine when ``create`` is true: :meth:`prepare` makes it.
        """
        root = root.expanduser().absolute()
        state = cls(root)
        if not root.exists() and not create:
            raise SeedError(f"state directory {root} does not exist")
        problem = writable_problem(root)
        if problem:
            raise SeedError(f"state directory {root} cannot be used: {problem}")
        if root.exists():
            state._check_contents()
        return state

    def prepare(self) -> None:
        """Create the directory layout (after validation, just before the first write)."""
        for directory in (self.root, self.torrents_dir, self.resume_dir):
            try:
                directory.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise SeedError(f"state directory {self.root} is not writable: {error.strerror}") from None
        marker = self.root / _MARKER
        if not marker.exists():
            atomic_write(marker, json.dumps({"format": FORMAT}).encode() + b"\n")

    def add(self, torrent: bytes, path: Path, hashed: os.stat_result) -> Record:
        """Store a torrent and its file's location; adding the same one again overwrites it.

        ``hashed`` is the file's stat from before hashing: if the file changed since,
        the torrent may describe neither version, and nothing is stored.
        """
        info_hash = info_hash_of(torrent)
        absolute = path.absolute()
        record = Record(info_hash, torrent, absolute, hashed.st_size, hashed.st_mtime_ns)
        problem = record.file_problem()
        if problem:
            raise SeedError(f"{problem} while it was being hashed: try again once it is complete")
        self.prepare()
        torrent_file = self.torrents_dir / f"{info_hash}.torrent"
        new = not torrent_file.exists()
        meta = {
            "path": str(absolute),
            "relative": os.path.relpath(absolute, self.root),
            "size": record.size,
            "mtime_ns": record.mtime_ns,
            "added": datetime.date.today().isoformat(),
        }
        try:
            atomic_write(torrent_file, torrent)
            atomic_write(self.torrents_dir / f"{info_hash}.json", json.dumps(meta, indent=2).encode() + b"\n")
        except OSError:
            if new:
                torrent_file.unlink(missing_ok=True)
            raise
        self._forget_older(record)
        return record

    def _forget_older(self, record: Record) -> None:
        """Drop the records of earlier versions of the same file: their pieces are gone."""
        for info_hash in self.info_hashes() - {record.info_hash}:
            meta_file = self.torrents_dir / f"{info_hash}.json"
            try:
                same_file = json.loads(meta_file.read_text(encoding="utf-8")).get("path") == str(record.path)
            except (OSError, ValueError, AttributeError):
                continue
            if same_file:
                meta_file.unlink()  # first: a running seeder goes by the records
                (self.torrents_dir / f"{info_hash}.torrent").unlink(missing_ok=True)
                (self.resume_dir / f"{info_hash}.resume").unlink(missing_ok=True)

    def info_hashes(self) -> set[str]:
        """Info hashes with a complete record (cheap: names only, for rescans)."""
        if not self.torrents_dir.is_dir():
            return set()
        return {p.stem for p in self.torrents_dir.glob("*.json") if len(p.stem) == 40}

    def load(self, info_hash: str) -> Record:
        """Read one record; :class:`SeedError` names the file if it is damaged."""
        meta_file = self.torrents_dir / f"{info_hash}.json"
        torrent_file = self.torrents_dir / f"{info_hash}.torrent"
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            torrent = torrent_file.read_bytes()
        except (OSError, ValueError) as error:
            raise self._corrupt(meta_file, error) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("path"), str):
            raise self._corrupt(meta_file, "no file path in it")
        if not all(isinstance(meta.get(key), int) for key in ("size", "mtime_ns")):
            raise self._corrupt(meta_file, "no file size and mtime in it")
        try:
            actual = info_hash_of(torrent)
        except SeedError as error:
            raise self._corrupt(torrent_file, error) from None
        if actual != info_hash:
            raise self._corrupt(torrent_file, f"its info hash is {actual}")
        path = Path(meta["path"])
        relative = meta.get("relative")
        if not path.exists() and isinstance(relative, str) and (self.root / relative).exists():
            path = (self.root / relative).resolve()  # the state and the videos moved together
        return Record(info_hash, torrent, path, meta["size"], meta["mtime_ns"])

    def records(self) -> list[Record]:
        return [self.load(h) for h in sorted(self.info_hashes())]

    def read_resume(self, info_hash: str) -> bytes | None:
        try:
            return (self.resume_dir / f"{info_hash}.resume").read_bytes()
        except FileNotFoundError:
            return None

    def write_resume(self, info_hash: str, data: bytes) -> None:
        atomic_write(self.resume_dir / f"{info_hash}.resume", data)

    def _check_contents(self) -> None:
        marker = self.root / _MARKER
        if marker.exists():
            try:
                fmt = json.loads(marker.read_text(encoding="utf-8")).get("format")
            except (OSError, ValueError, AttributeError) as error:
                raise self._corrupt(marker, error) from None
            if fmt != FORMAT:
                raise self._corrupt(marker, f"format {fmt!r}, this seeder reads format {FORMAT}")
        elif any(self.root.iterdir()):
            raise SeedError(
                f"state directory {self.root} is not empty and has no {_MARKER}: is it another program's directory?"
            )
        for kind in ("torrents", "resume"):
            directory = self.root / kind
            if directory.exists() and not directory.is_dir():
                raise self._corrupt(directory, "not a directory")
        for info_hash in self.info_hashes():
            self.load(info_hash)

    def _corrupt(self, path: Path, why: object) -> SeedError:
        return SeedError(f"state directory {self.root} is corrupt: {path.relative_to(self.root)}: {why}")


def info_hash_of(torrent: bytes) -> str:
    try:
        info = lt.torrent_info(torrent)
    except (RuntimeError, ValueError) as error:
        raise SeedError(f"not a valid .torrent ({error})") from None
    return str(info.info_hashes().v1)
