"""Writing files safely: the one atomic writer and the one writable-folder check."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Read once at import, while there is one thread: os.umask can only be read by setting it.
_FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once (temporary file, fsync, rename).

    A crash or a full disk never leaves half a file. The file gets the usual permissions
    (0644 under umask 022), not mkstemp's 0600, as a web server may serve content entries
    and .torrent files.
    """
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def outside_problem(path: Path, folder: Path) -> str | None:
    """Why ``path`` is not really inside ``folder`` (a symlink leading out of it), or None.

    The site publishes what the content folder holds: a link to ``/proc/self/environ`` or
    to ``~/.ssh`` must not be copied into it.
    """
    target = path.resolve()
    if target.is_relative_to(folder.resolve()):
        return None
    return f"is a symlink to {target}, outside the content folder {folder}; copy the file in instead"


def writable_problem(directory: Path) -> str | None:
    """Why files cannot be written in ``directory`` (made first if missing), or None.

    Asked before long work (hashing), so that it fails first, not after. It really tries
    to create a file: permission bits lie on read-only mounts and for root.
    """
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a directory"
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".videoswarm-probe-")
    except OSError as error:
        return f"{existing} is not writable: {error.strerror}"
    os.close(fd)
    os.unlink(probe)
    return None
