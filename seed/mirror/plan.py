"""What one poll of a feed means for the mirror, decided with no I/O: new, back, gone, skipped.

Pure: it reads the poll's items, what is owned already (the mirror's items, ``seed add``'s
info hashes, who holds each web-seed file name) and the limits (``--max-size``, the free
disk space), and returns the decisions; :class:`seed.mirror.Mirror` carries them out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from ..feed import Torrent
from ..status import MirrorState, size

#: Who owns a web-seed file name that ``seed add`` recorded.
SEED_ADD = "a video added with seed add"


@dataclass(frozen=True)
class Skipped:
    """A feed item that is not mirrored, and why."""

    title: str
    problem: str
    state: MirrorState = MirrorState.NOT_MIRRORED
    info_hash: str = ""


@dataclass(frozen=True)
class Candidate:
    """One feed item as a poll found it: its ``.torrent`` if it is new, else a problem or nothing."""

    key: str
    title: str
    info_hash: str | None
    torrent: Torrent | None = None
    problem: str = ""


@dataclass(frozen=True)
class Mirrored:
    """What the plan needs to know of a video mirrored already."""

    subscription: str
    size: int
    missing: bool = False


_NOTHING = Mirrored("", 0)


@dataclass(frozen=True)
class Owned:
    mirrored: Mapping[str, Mirrored]
    #: Info hashes that ``seed add`` recorded.
    recorded: frozenset[str]
    #: Web-seed file name → who serves it (a subscription, or :data:`SEED_ADD`).
    names: Mapping[str, str]


@dataclass(frozen=True)
class Limits:
    max_size: int | None
    #: Free bytes on the disk now: each new video is checked against it alone, as the
    #: allocation of the ones before it shows in the disk usage only once libtorrent makes
    #: their files (a full disk while downloading is then a file error, see seed/session.py).
    free: int


@dataclass
class Plan:
    new: list[Candidate] = field(default_factory=list)
    #: Mirrored videos listed again before their grace period ended.
    back: list[str] = field(default_factory=list)
    #: Mirrored videos of this subscription that left the feed (or its selection).
    gone: list[str] = field(default_factory=list)
    #: By feed key.
    skipped: dict[str, Skipped] = field(default_factory=dict)


def plan(subscription: str, candidates: Sequence[Candidate], owned: Owned, limits: Limits) -> Plan:
    """Decide each candidate in feed order (newest first, so ``--max-size`` keeps the newest)."""
    result = Plan()
    names = dict(owned.names)
    used = 0
    wanted: set[str] = set()
    for candidate in candidates:
        mirrored = owned.mirrored.get(candidate.info_hash or "")
        new = candidate.torrent if mirrored is None else None
        item_size = (new or mirrored or _NOTHING).size
        skip = _refusal(candidate, owned, limits.max_size, used, item_size) or _unplaceable(
            candidate, new, names, limits.free
        )
        if skip is not None or candidate.info_hash is None:
            result.skipped[candidate.key] = skip or Skipped(candidate.title, "no info hash")
            continue
        used += item_size
        wanted.add(candidate.info_hash)
        if new is not None:
            result.new.append(candidate)
            names[PurePath(new.name).name] = subscription
        elif mirrored is not None and mirrored.missing and mirrored.subscription == subscription:
            result.back.append(candidate.info_hash)
    result.gone = _gone(subscription, owned, wanted)
    return result


def _gone(subscription: str, owned: Owned, wanted: set[str]) -> list[str]:
    return sorted(
        info_hash
        for info_hash, mirrored in owned.mirrored.items()
        if mirrored.subscription == subscription and info_hash not in wanted and not mirrored.missing
    )


def _refusal(candidate: Candidate, owned: Owned, limit: int | None, used: int, item_size: int) -> Skipped | None:
    if candidate.problem:
        return Skipped(candidate.title, candidate.problem)
    if candidate.info_hash is not None and candidate.info_hash in owned.recorded:
        return Skipped(candidate.title, "already seeded (seed add)", MirrorState.ALREADY_SEEDED, candidate.info_hash)
    if limit is not None and used + item_size > limit:
        return Skipped(
            candidate.title,
            f"larger than --max-size {size(limit)} ({size(item_size)})"
            if item_size > limit
            else f"over --max-size {size(limit)} with the newer videos ({size(used)} used)",
        )
    return None


def _unplaceable(candidate: Candidate, torrent: Torrent | None, names: Mapping[str, str], free: int) -> Skipped | None:
    """A new video whose web-seed name has an owner already, or that does not fit on the disk.

    A taken name is refused rather than served under a per-site path: sites list volunteers'
    web seeds as ``<base>/<file name>``, so no site's viewers would ever ask for such a path.
    """
    if torrent is None:
        return None
    name = PurePath(torrent.name).name
    if name in names:
        return Skipped(candidate.title, f"{name} is taken by {names[name]}: the web seed serves one file per name")
    if torrent.size > free:
        return Skipped(candidate.title, f"needs {size(torrent.size)}, and the disk has {size(free)} free")
    return None
