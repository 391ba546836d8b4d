"""Which URL schemes each kind of address may use.

A magnet's ``tr=`` (and ``seed add --tracker``) may name WebSocket or HTTP trackers;
browsers can only announce over WebSocket, so a site's own trackers must be ``ws``/``wss``.
Web seeds (``ws=``), ``xs=`` and ``as=`` are fetched over HTTP. The player's check
(``sitegen/assets/format.js``) follows the same rules; ``tests/data/magnets.json`` holds both to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

TRACKER_SCHEMES = ("ws", "wss", "http", "https")
WEBSOCKET_SCHEMES = ("ws", "wss")
HTTP_SCHEMES = ("http", "https")


def has_scheme(url: str, schemes: Sequence[str]) -> bool:
    """Whether ``url`` is absolute, with one of ``schemes`` and a host."""
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in schemes and bool(parts.hostname)
    except ValueError:  # an unclosed IPv6 bracket, a bad port...
        return False


def is_websocket(url: str) -> bool:
    """Whether ``url`` is an address a browser can announce to."""
    return has_scheme(url, WEBSOCKET_SCHEMES)


def spelled(schemes: Sequence[str], joiner: str = " or ") -> str:
    """``ws:// or wss://``: the schemes as a user writes them, for error messages."""
    return joiner.join(f"{scheme}://" for scheme in schemes)
