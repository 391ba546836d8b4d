"""Listed mirrors: volunteers' web seeds, added to every video's magnet and ``.torrent``.

A mirror is the base URL of a ``seed run --webseed-port`` (behind its TLS proxy), which
serves each file it seeds at ``<base>/<file name>`` (BEP 19: for a single-file torrent the
URL names the file itself). The build adds that URL to the magnet as ``ws=`` and to the
copied ``.torrent`` as ``url-list``. Both live outside the torrent's ``info`` dictionary,
so the info hash, and with it the swarm, stays the same; the build checks that it did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from fastbencode import bdecode, bencode

from videoswarm_content.entry import Entry
from videoswarm_content.magnet import parse_magnet, web_seed_url
from videoswarm_content.schemes import HTTP_SCHEMES, has_scheme, spelled

from .errors import SitegenError


def check_mirror(url: str) -> str:
    """``url`` if it is an absolute http(s) base URL, else a :class:`SitegenError` naming it."""
    if not has_scheme(url, HTTP_SCHEMES) or urlsplit(url).query or urlsplit(url).fragment:
        raise SitegenError(f"videoswarm: mirrors must be {spelled(HTTP_SCHEMES)} base URLs, not {url!r}")
    return url


def with_mirrors(entry: Entry, mirrors: Sequence[str]) -> Entry:
    """``entry`` with every mirror's URL of its file appended to the magnet's ``ws=`` (once each)."""
    name = entry.magnet.name
    if not mirrors or not name:
        return entry
    urls = [web_seed_url(base, name) for base in mirrors]
    new = [url for url in urls if url not in entry.magnet.web_seeds]
    if not new:
        return entry
    uri = entry.magnet.uri + "".join(f"&ws={quote(url, safe='')}" for url in new)
    return dataclasses.replace(entry, magnet=parse_magnet(uri))


def torrent_with_web_seeds(torrent: bytes, urls: Sequence[str], where: str) -> bytes:
    """The ``.torrent`` with ``urls`` added to its ``url-list``; the ``info`` dictionary is untouched."""
    if not urls:
        return torrent
    try:
        meta = bdecode(torrent)
        info = meta[b"info"]
    except (ValueError, KeyError, TypeError) as error:
        raise SitegenError(f"not a valid .torrent file ({error})", where) from None
    existing = meta.get(b"url-list", [])
    existing = [existing] if isinstance(existing, bytes) else list(existing)
    added = [url.encode() for url in urls if url.encode() not in existing]
    if not added:
        return torrent
    meta[b"url-list"] = existing + added
    changed: bytes = bencode(meta)
    if bencode(bdecode(changed)[b"info"]) != bencode(info) or bencode(info) not in torrent:
        # A non-canonical original would get a new info hash once re-encoded: leave it alone.
        raise SitegenError(
            "cannot add the mirrors without changing its info hash (not canonically "
            "bencoded): make it again with `seed add`",
            where,
        )
    return changed
