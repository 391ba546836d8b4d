"""Magnet links: strict parsing (via torf) into what the site and the player need."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import torf

#: URL schemes a browser player can use: WebSocket or HTTP trackers, HTTP web seeds and sources.
TRACKER_SCHEMES = ("ws://", "wss://", "http://", "https://")
HTTP_SCHEMES = ("http://", "https://")
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
    )


def _check_schemes(key: str, urls: list[str], schemes: tuple[str, ...]) -> None:
    for url in urls:
        if not url.lower().startswith(schemes):
            raise MagnetError(f"{key}= must be a {'/'.join(s[:-3] for s in schemes)} URL, not {url!r}")


def _hex(info_hash: str) -> str:
    if len(info_hash) == 32:  # base32, as some clients write it
        return base64.b32decode(info_hash.upper()).hex()
    return info_hash.lower()


def _describe(error: Exception) -> str:
    text = str(error)
    if "exact topic" in text:
        return "needs exactly one xt=urn:btih:<40 hex digits> (a BitTorrent v1 info hash)"
    return text
