"""Magnet links: built for ``seed add``, parsed strictly (via torf) for the site and its player.

A built link carries everything a browser needs: ``xt``, ``dn``, every ``tr=`` and every
``ws=``. libtorrent's ``make_magnet_uri`` gives either ``xt`` and ``dn`` or ``tr=`` and
``ws=``, never all of them, so the link is put together here. Every value is
percent-encoded (``%20`` for a space, never ``+``), which every parser decodes the same way.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

import torf

from .schemes import HTTP_SCHEMES, TRACKER_SCHEMES, has_scheme

#: Never part of a well-formed (percent-encoded) magnet, and dangerous in HTML or JavaScript.
_UNSAFE = re.compile(r"""[\s<>"'`\\]""")


class MagnetError(ValueError):
    """The text is not a BitTorrent v1 magnet link the player can use."""


@dataclass(frozen=True)
class Magnet:
    uri: str
    #: 40 lowercase hex digits (base32 ``btih`` values are converted).
    info_hash: str
    name: str | None
    trackers: tuple[str, ...]
    web_seeds: tuple[str, ...]
    #: The file's size in bytes (``xl=``), when the link gives it.
    size: int | None = None


def magnet_uri(info_hash: str, name: str, trackers: Sequence[str], web_seeds: Sequence[str] = ()) -> str:
    """``magnet:?xt=urn:btih:<hex>&dn=<name>``, then every ``tr=`` and every ``ws=``."""
    parts = [f"xt=urn:btih:{info_hash.lower()}", f"dn={quote(name, safe='')}"]
    parts += [f"tr={quote(url, safe='')}" for url in trackers]
    parts += [f"ws={quote(url, safe='')}" for url in web_seeds]
    return "magnet:?" + "&".join(parts)


def web_seed_url(base: str, file_name: str) -> str:
    """The URL of one file under a web seed base (BEP 19: single-file URLs name the file)."""
    return base.rstrip("/") + "/" + quote(file_name)


def parse_magnet(text: object) -> Magnet:
    """Parse ``magnet:?xt=urn:btih:...``; raise :class:`MagnetError` saying what is wrong."""
    if not isinstance(text, str):
        raise MagnetError(f"must be a string, not {type(text).__name__}")
    uri = text.strip()
    if not uri.startswith("magnet:?"):
        raise MagnetError("must start with 'magnet:?'")
    if _UNSAFE.search(uri):
        raise MagnetError("contains spaces, quotes or angle brackets; values must be percent-encoded")
    try:
        magnet = torf.Magnet.from_string(uri)
    except (torf.TorfError, ValueError) as error:  # torf.URLError is a TorfError too
        raise MagnetError(_describe(error)) from None
    _check_schemes("tr", magnet.tr, TRACKER_SCHEMES)
    _check_schemes("ws", magnet.ws, HTTP_SCHEMES)
    for key, url in (("xs", magnet.xs), ("as", magnet.as_)):
        _check_schemes(key, [url] if url else [], HTTP_SCHEMES)
    return Magnet(
        uri=uri,
        info_hash=_hex(magnet.infohash),
        name=magnet.dn,
        trackers=tuple(magnet.tr),
        web_seeds=tuple(magnet.ws),
        size=magnet.xl,
    )


def _check_schemes(key: str, urls: Sequence[str], schemes: Sequence[str]) -> None:
    for url in urls:
        if not has_scheme(url, schemes):
            raise MagnetError(f"{key}= must be a {'/'.join(schemes)} URL, not {url!r}")


def _hex(info_hash: str) -> str:
    if len(info_hash) == 32:  # base32, as some clients write it
        return base64.b32decode(info_hash.upper()).hex()
    return info_hash.lower()


def _describe(error: Exception) -> str:
    text = str(error)
    if "exact topic" in text:
        return "needs exactly one xt=urn:btih:<40 hex digits> (a BitTorrent v1 info hash)"
    return text
