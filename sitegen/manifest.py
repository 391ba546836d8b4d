"""The site's own copies and key: ``site.json``, and what every page says of them.

``site.json`` lists every file the build wrote, hashed, and is signed with the publisher's
key. The format and its verification are :mod:`videoswarm_content.manifest`, shared with
the seeder; this module only walks the built site and signs. It runs last in the build,
after every other file (``csp.txt`` included) is in place.

``site_mirrors:`` are full copies of the site (a ``seed follow`` that mirrors the site, behind
its owner's TLS), not the web seeds of ``mirrors:``. Each page names them with a
``<link rel="alternate">`` to the same page on each copy, and the key with a ``<meta>``.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from markupsafe import escape

from videoswarm_content.manifest import PATH, FileEntry, Manifest, dumps, path_problem

from .errors import SitegenError
from .signing import public_key

#: The ``<meta name=...>`` that carries the publisher's key on every page.
KEY_META = "videoswarm-site-key"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_site_mirror(url: str) -> str:
    """``url`` as a base ending in ``/`` if it is https (or http on loopback, for tests and demos)."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not secure or not parts.hostname or parts.query or parts.fragment:
        raise SitegenError(f"videoswarm: site_mirrors must be https:// URLs of copies of the site, not {url!r}")
    return url if url.endswith("/") else url + "/"


def head_tags(page_url: str, site_mirrors: Sequence[str], key: str | None) -> str:
    """The page's key ``<meta>`` and a ``<link rel="alternate">`` to the same page on each copy."""
    tags = [f'<meta name="{KEY_META}" content="{escape(key)}">\n'] if key else []
    tags += [f'<link rel="alternate" href="{escape(base + page_url)}">\n' for base in site_mirrors]
    return "".join(tags)


def write_manifest(
    site_dir: Path, site_url: str | None, site_mirrors: Sequence[str], key: Ed25519PrivateKey | None
) -> Manifest:
    """Hash every file under ``site_dir`` and write ``site.json`` there, signed when ``key`` is given."""
    files = tuple(_entry(site_dir, relative) for relative in sorted(_walk(site_dir, "")) if relative != PATH)
    manifest = Manifest(
        built=datetime.datetime.now(datetime.UTC).replace(microsecond=0),
        site_url=site_url or None,
        site_mirrors=tuple(site_mirrors),
        public_key=public_key(key) if key is not None else None,
        files=files,
    )
    (site_dir / PATH).write_bytes(dumps(manifest, key.sign(manifest.body()) if key is not None else None))
    return manifest


def _walk(folder: Path, prefix: str) -> Iterator[str]:
    """Every file's path relative to the site, in POSIX form."""
    with os.scandir(folder) as entries:
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_dir():
                yield from _walk(Path(entry.path), relative + "/")
            else:
                yield relative


def _entry(site_dir: Path, relative: str) -> FileEntry:
    problem = path_problem(relative)
    if problem:
        # A content file copied as it is, named so that no mirror could store it safely.
        raise SitegenError(f"the site's file {relative!r} {problem}, so no mirror could copy it; rename it", site_dir)
    with open(site_dir / relative, "rb") as stream:
        digest = hashlib.file_digest(stream, "sha256")
        size = stream.tell()
    return FileEntry(relative, size, digest.hexdigest())
