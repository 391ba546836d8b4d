"""Making the v1 .torrent for one video file, with piece sizes chosen for streaming.

Browsers' webtorrent does not implement BitTorrent v2 (BEP 52), so every torrent is v1
only. libtorrent hashes the file; a tqdm bar on stderr shows how far it has got.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import libtorrent as lt
from tqdm import tqdm

from .errors import SeedError

KiB = 1024
MIN_PIECE = 64 * KiB
MAX_PIECE = 1024 * KiB
TARGET_PIECES = 256


def piece_size(file_size: int) -> int:
    """The smallest power of two from 64 KiB that keeps the torrent to ~256 pieces.

    Browsers' webtorrent checks every piece against its chunk store before the player
    is ready, at over a millisecond a piece: 1,536 pieces of 32 KiB held a 50 MB video's
    first frame back by 2 s, 192 pieces of 256 KiB brought it under 1 s (bench/README.md).
    A player also waits for the whole first piece, so pieces stay small enough to arrive
    quickly: 64 KiB for clips up to 16 MB, 256 KiB for 50 MB, and never over 1 MiB
    (under a second of HD video), past ~256 MB the count grows instead.
    """
    size = MIN_PIECE
    while size < MAX_PIECE and size * TARGET_PIECES < file_size:
        size *= 2
    return size


def make_torrent(path: Path, trackers: Sequence[str], web_seeds: Sequence[str] = (), progress: bool = True) -> bytes:
    """Hash ``path`` into a bencoded v1 .torrent naming every tracker and web seed.

    Each tracker gets its own tier, so clients announce to all of them rather than
    treating them as fallbacks for one another.
    """
    files = lt.file_storage()
    lt.add_files(files, str(path))
    if files.num_files() != 1 or files.total_size() == 0:
        raise SeedError(f"{path}: cannot make a torrent of an empty file", exit_code=2)
    ct = lt.create_torrent(files, piece_size(files.total_size()), flags=lt.create_torrent.v1_only)
    for tier, url in enumerate(trackers):
        ct.add_tracker(url, tier)
    for url in web_seeds:
        ct.add_url_seed(url)
    ct.set_creator("videoswarm seed")
    with tqdm(
        total=files.total_size(),
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        desc=f"hashing {path.name}",
        disable=not progress,
        leave=False,
    ) as bar:

        def advance(piece: int) -> None:
            bar.update(ct.piece_size(piece))

        try:
            lt.set_piece_hashes(ct, str(path.parent), advance)
        except RuntimeError as error:  # the file changed or vanished while hashing
            raise SeedError(f"{path}: hashing failed: {error}") from None
    return lt.bencode(ct.generate())
