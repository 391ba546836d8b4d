"""Magnet links that carry everything a browser needs to find the video.

libtorrent's ``make_magnet_uri`` gives either ``xt`` and ``dn`` (from a torrent_info) or
``tr=`` and ``ws=`` without ``dn`` (from add_torrent_params), never all of them, so the
link is put together here. Every value is percent-encoded (``%20`` for a space, never
``+``), which every magnet parser decodes the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote


def magnet_uri(info_hash: str, name: str, trackers: Sequence[str], web_seeds: Sequence[str] = ()) -> str:
    """``magnet:?xt=urn:btih:<hex>&dn=<name>``, then every ``tr=`` and every ``ws=``."""
    parts = [f"xt=urn:btih:{info_hash.lower()}", f"dn={quote(name, safe='')}"]
    parts += [f"tr={quote(url, safe='')}" for url in trackers]
    parts += [f"ws={quote(url, safe='')}" for url in web_seeds]
    return "magnet:?" + "&".join(parts)


def web_seed_url(base: str, file_name: str) -> str:
    """The URL of one file under a web seed base (BEP 19: single-file URLs name the file)."""
    return base.rstrip("/") + "/" + quote(file_name)
