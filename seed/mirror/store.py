"""The mirror's own files, under ``<state>/mirror/``, all named by info hash (never by
anything a feed says)::

    mirror/<hash>.torrent     the .torrent as fetched (checked: single file, v1)
    mirror/<hash>.json        which subscription it is for, whether it is complete, since
                              when it is gone from the feed, when it was first mirrored
    mirror/data/<hash>/       libtorrent's save path; the file name inside is the torrent's,
                              sanitised by libtorrent

Only these are ever deleted by the mirror, never a file that ``seed add`` recorded.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePath

from videoswarm_content.files import atomic_write

from ..state import State


@dataclass
class Item:
    """One mirrored video, as stored in ``mirror/<hash>.json``."""

    info_hash: str
    subscription: str
    name: str
    size: int
    title: str
    complete: bool = False
    missing_since: float | None = None
    #: When it was first mirrored (seconds since the epoch): the earliest keeps a shared file name.
    mirrored: float = 0.0

    @property
    def file_name(self) -> str:
        """Its web-seed name: the last part of the torrent's name, as libtorrent saves it."""
        return PurePath(self.name).name


class Store:
    def __init__(self, state: State) -> None:
        self.root = state.root / "mirror"

    def data(self, info_hash: str) -> Path:
        """The item's own folder, libtorrent's save path."""
        return self.root / "data" / info_hash

    def load(self) -> tuple[list[tuple[Item, bytes]], list[str]]:
        """Every stored item with its ``.torrent``, and a problem line for each damaged one."""
        items, problems = [], []
        for meta in sorted(self.root.glob("*.json")):
            try:
                item = Item(**json.loads(meta.read_text(encoding="utf-8")))
                if meta.stem != item.info_hash:
                    raise ValueError(f"it names {item.info_hash}")
                items.append((item, (self.root / f"{item.info_hash}.torrent").read_bytes()))
            except (OSError, ValueError, TypeError) as error:
                problems.append(f"ignoring damaged {meta.name}: {error}")
        return items, problems

    def create(self, item: Item, torrent: bytes) -> None:
        """Store a new item; on OSError (a full or read-only disk) nothing half-written is kept."""
        self.root.mkdir(exist_ok=True)
        atomic_write(self.root / f"{item.info_hash}.torrent", torrent)
        try:
            self.save(item)
        except OSError:
            (self.root / f"{item.info_hash}.torrent").unlink(missing_ok=True)
            raise

    def save(self, item: Item) -> None:
        atomic_write(self.root / f"{item.info_hash}.json", json.dumps(dataclasses.asdict(item)).encode() + b"\n")

    def delete(self, info_hash: str) -> None:
        """The item's record, its ``.torrent`` and its data folder."""
        for path in (self.root / f"{info_hash}.json", self.root / f"{info_hash}.torrent"):
            path.unlink(missing_ok=True)
        self.delete_data(info_hash)

    def delete_data(self, info_hash: str) -> None:
        """The item's data folder, named by its info hash: only ever the mirror's own files."""
        shutil.rmtree(self.data(info_hash), ignore_errors=True)


def names(state: State) -> dict[str, tuple[str, str]]:
    """File name → (info hash, subscription) of each mirrored video, for ``seed add``'s name check."""
    items, _ = Store(state).load()
    return {item.file_name: (item.info_hash, item.subscription) for item, _ in reversed(items)}
