"""Which torrents this tracker serves (``TRACKER_ALLOWLIST``), reloaded when the file changes."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger("tracker_app.allowlist")


class AllowlistError(ValueError):
    """The allowlist file cannot be read or has a line that is not an info hash."""


def read_allowlist(path: Path) -> frozenset[bytes]:
    """Hex info hashes, one per line; blank lines and ``#`` comments are ignored."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise AllowlistError(f"cannot read allowlist {path}: {exc.strerror}") from None
    hashes = set()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            raw = bytes.fromhex(line)
        except ValueError:
            raw = b""
        if len(raw) != 20:
            raise AllowlistError(f"{path}:{number}: {line[:50]!r} is not a 40-digit hex info hash")
        hashes.add(raw)
    return frozenset(hashes)


class Allowlist:
    """``None`` path allows every torrent; otherwise only the listed ones.

    The file is checked for changes at most once a second, so an operator can add
    a video without restarting replicas. A file that turns unreadable or invalid
    keeps the last good list and logs why.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._hashes: frozenset[bytes] = read_allowlist(path) if path else frozenset()
        self._mtime = self._stat()
        self._checked = time.monotonic()

    def allows(self, info_hash: bytes) -> bool:
        if self.path is None:
            return True
        self._maybe_reload()
        return info_hash in self._hashes

    def _stat(self) -> float:
        try:
            return os.stat(self.path).st_mtime if self.path else 0.0
        except OSError:
            return 0.0

    def _maybe_reload(self) -> None:
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        mtime = self._stat()
        if mtime == self._mtime:
            return
        self._mtime = mtime
        try:
            self._hashes = read_allowlist(self.path)  # type: ignore[arg-type]
            log.info("allowlist reloaded: %d torrents", len(self._hashes))
        except AllowlistError as exc:
            log.warning("%s; keeping the previous %d torrents", exc, len(self._hashes))
