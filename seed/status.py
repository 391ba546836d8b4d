"""What the seeder is doing, per torrent: printed by ``seed run``, shown by ``seed status``.

The running seeder rewrites ``<state>/status.json`` (atomically) every interval, with its
process id and the time; ``seed status`` reads it from another process and can tell a
live seeder from the leftovers of one that stopped.

``upload_by_kind`` splits the bytes sent since ``seed run`` started by who got them:
``webrtc`` (browsers), ``bittorrent`` (TCP/uTP clients) and ``webseed`` (HTTP range
requests to the web seed), so an operator sees how much the swarm takes off the web seed.
"""

from __future__ import annotations

import enum
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from videoswarm_content.files import atomic_write

from .errors import SeedError


class MirrorState(enum.StrEnum):
    """The state of a feed item that is not mirrored, in ``seed status``."""

    #: Refused (too large, a bad .torrent, a name taken...) or failed: the reason is its problem.
    NOT_MIRRORED = "not mirrored"
    #: Its info hash is one of ``seed add``'s: seeded already, and never the mirror's to touch.
    ALREADY_SEEDED = "already seeded"


@dataclass(frozen=True)
class TorrentStatus:
    name: str
    info_hash: str
    state: str
    peers: int
    upload_rate: int  # payload bytes per second
    uploaded: int  # payload bytes, all time (kept in the resume data across restarts)
    problem: str = ""  # the last tracker or file error, cleared when it recovers
    progress: float = 1.0  # of a mirrored video's download (seed add's own files are whole)
    source: str = ""  # the subscription a mirrored video comes from (seed follow); "" for seed add's
    #: Payload bytes since this seeder started, by kind: webrtc, bittorrent (TCP/uTP), webseed.
    upload_by_kind: dict[str, int] = field(default_factory=dict)


#: The kinds of upload in display order, with the column heading that ``seed status`` shows.
KINDS = (("webrtc", "WEBRTC"), ("bittorrent", "TCP/UTP"), ("webseed", "WEB SEED"))


@dataclass(frozen=True)
class Report:
    pid: int
    updated: float
    interval: float
    torrents: list[TorrentStatus] = field(default_factory=list)
    subscriptions: list[dict[str, object]] = field(default_factory=list)

    def is_fresh(self, now: float | None = None) -> bool:
        """Written recently by a process that still exists."""
        age = (now or time.time()) - self.updated
        return age <= max(3 * self.interval, 15) and _alive(self.pid)


def size(n: float) -> str:
    return str(tqdm.format_sizeof(n, "B", divisor=1024))


def line(t: TorrentStatus) -> str:
    """One status line: ``clip.mp4 1a2b3c4d: seeding, 3 peers, up 1.20MB/s, uploaded 48.0MB [webrtc 40.0MB, ...]``."""
    text = (
        f"{t.name} {t.info_hash[:8]}: {state(t)}, {t.peers} peer{'s' if t.peers != 1 else ''}, "
        f"up {size(t.upload_rate)}/s, uploaded {size(t.uploaded)}"
    )
    if t.upload_by_kind:
        text += " [" + ", ".join(f"{kind} {size(t.upload_by_kind.get(kind, 0))}" for kind, _ in KINDS) + "]"
    return f"{text} ({t.problem})" if t.problem else text


def table(torrents: list[TorrentStatus]) -> str:
    rows = [("NAME", "INFO HASH", "STATE", "PEERS", "UP/S", "UPLOADED", *(heading for _, heading in KINDS))]
    rows += [
        (
            t.name,
            t.info_hash[:8],
            state(t),
            str(t.peers),
            size(t.upload_rate),
            size(t.uploaded),
            *(size(t.upload_by_kind.get(kind, 0)) for kind, _ in KINDS),
        )
        for t in torrents
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines += [f"  {t.name}: {t.problem}" for t in torrents if t.problem]
    lines.append("UPLOADED is all time (libtorrent); WEBRTC, TCP/UTP and WEB SEED count since `seed run` started.")
    return "\n".join(lines)


def state(t: TorrentStatus) -> str:
    """``seeding``; ``downloading 42%``; ``seeding (from videos.example.org)`` for a mirrored video."""
    text = f"{t.state} {t.progress:.0%}" if t.state == "downloading" else t.state
    return f"{text} (from {t.source})" if t.source else text


def write(
    path: Path, interval: float, torrents: list[TorrentStatus], subscriptions: list[dict[str, object]] | None = None
) -> None:
    report = {
        "pid": os.getpid(),
        "updated": time.time(),
        "interval": interval,
        "torrents": [asdict(t) for t in torrents],
        "subscriptions": subscriptions or [],
    }
    atomic_write(path, json.dumps(report, indent=1).encode() + b"\n")


def read(path: Path) -> Report | None:
    """The last report, or None if no seeder ever ran with this state directory."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Report(
            int(raw["pid"]),
            float(raw["updated"]),
            float(raw["interval"]),
            [TorrentStatus(**t) for t in raw["torrents"]],
            list(raw.get("subscriptions", [])),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise SeedError(f"{path} is unreadable: {error}") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
