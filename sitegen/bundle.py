"""The webtorrent browser bundle: fetched from the npm registry, verified, cached.

The site ships webtorrent's ``dist/webtorrent.min.js``. It is never committed: the
build downloads the pinned version's tarball once (httpx), checks it against the
pinned ``dist.integrity`` (sha512, the value npm's lock files record), keeps it in a
cache folder and reads the files straight out of it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from videoswarm_content.files import atomic_write

from .errors import SitegenError

WEBTORRENT_VERSION = "2.8.5"
#: ``dist.integrity`` of webtorrent 2.8.5 on registry.npmjs.org.
WEBTORRENT_INTEGRITY = "sha512-oIjpuBrypApJ+RCZ8RRaHEncVSkt2cd25/I4Trb2sk9nlaEF92Dg1u8BCwqA4eJR7wIZQM95GyO7Wo4QTbrUUA=="
DEFAULT_REGISTRY = "https://registry.npmjs.org"
#: What the site ships from the package (the service worker is our own, assets/sw.js).
FILES = ("dist/webtorrent.min.js",)


@dataclass(frozen=True)
class Bundle:
    version: str
    #: ``dist/...`` path in the package -> file bytes.
    files: dict[str, bytes]

    @property
    def webtorrent(self) -> bytes:
        return self.files["dist/webtorrent.min.js"]


def cache_dir() -> Path:
    """``$SITEGEN_CACHE``, else the user's cache folder (``~/.cache/videoswarm`` on Linux, via platformdirs)."""
    if os.environ.get("SITEGEN_CACHE"):
        return Path(os.environ["SITEGEN_CACHE"])
    return Path(platformdirs.user_cache_dir("videoswarm"))


def registry() -> str:
    """``$SITEGEN_NPM_REGISTRY``, else npm's own ``$npm_config_registry``, else registry.npmjs.org."""
    url = os.environ.get("SITEGEN_NPM_REGISTRY") or os.environ.get("npm_config_registry") or DEFAULT_REGISTRY
    return url.rstrip("/")


def load_bundle(fetch: bool = True) -> Bundle:
    """The verified bundle, from the cache or (when ``fetch``) the registry."""
    tarball = cache_dir() / f"webtorrent-{WEBTORRENT_VERSION}.tgz"
    if tarball.exists():
        data = tarball.read_bytes()
        if not _matches(data, WEBTORRENT_INTEGRITY):
            raise SitegenError(
                f"cached webtorrent {WEBTORRENT_VERSION} fails its integrity check "
                f"({WEBTORRENT_INTEGRITY[:20]}...); delete the file to fetch it again",
                tarball,
            )
    elif not fetch:
        raise SitegenError(f"webtorrent {WEBTORRENT_VERSION} is not in the cache; run `sitegen fetch`", tarball)
    else:
        data = _download()
        tarball.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(tarball, data)
    return Bundle(WEBTORRENT_VERSION, _extract(data, tarball))


def _download() -> bytes:
    import httpx  # here, not at the top: most builds find the cache and skip its import time

    url = f"{registry()}/webtorrent/-/webtorrent-{WEBTORRENT_VERSION}.tgz"
    try:
        response = httpx.get(url, timeout=60, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise SitegenError(
            f"cannot fetch webtorrent {WEBTORRENT_VERSION} from {url}: {error} "
            "(set SITEGEN_NPM_REGISTRY for a mirror, or warm the cache with `sitegen fetch`)"
        ) from None
    if not _matches(response.content, WEBTORRENT_INTEGRITY):
        raise SitegenError(f"{url} does not match the pinned integrity {WEBTORRENT_INTEGRITY[:20]}...; refusing it")
    return response.content


def _matches(data: bytes, integrity: str) -> bool:
    algorithm, _, expected = integrity.partition("-")
    return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected


def _extract(data: bytes, source: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for name in FILES:
            member = archive.extractfile(f"package/{name}")
            if member is None:
                raise SitegenError(f"webtorrent tarball has no {name}", source)
            files[name] = member.read()
    return files
