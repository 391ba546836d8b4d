"""The client's address: the socket's, or the one a trusted proxy put in ``X-Forwarded-For``.

Proxies *append* the address they received a request from (Heroku's router, Render,
nginx's ``$proxy_add_x_forwarded_for``, Caddy), so only the right-most entries were
written by proxies we trust; anything to their left came from the client and may be
forged. With ``hops`` trusted proxies in a row, the client is the ``hops``-th entry
from the right.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

log = logging.getLogger("tracker_app.addresses")

_warned = False


def client_ip(conn: HTTPConnection, trust_proxy: bool, hops: int) -> str:
    """The address to record for this request's peer."""
    return peer_address(conn.scope["headers"], conn.scope.get("client"), trust_proxy, hops)


def peer_address(
    headers: Iterable[tuple[bytes, bytes]], client: Sequence[object] | None, trust_proxy: bool, hops: int
) -> str:
    """The client's address from a request's raw (lower-case) headers and its socket's ``(host, port)``."""
    own = str(client[0]) if client else "0.0.0.0"
    if not trust_proxy:
        return own
    header = b",".join(value for name, value in headers if name == b"x-forwarded-for")
    return forwarded_ip(header.decode("latin-1"), own, hops)


def forwarded_ip(header: str, own: str, hops: int) -> str:
    """The ``hops``-th address from the right of an ``X-Forwarded-For`` value, else the socket's ``own``.

    Fewer entries than ``hops`` means the request skipped an outer proxy; the
    left-most entry is then the one the first trusted proxy saw. A value that is
    not an address falls back to ``own``, with one warning per process.
    """
    entries = [entry.strip() for entry in header.split(",")] if header else []
    if not entries:
        return own
    address = _address(entries[-min(hops, len(entries))])
    if address is None:
        _warn_once(header)
        return own
    return address


def _address(entry: str) -> str | None:
    """An IP address from ``1.2.3.4``, ``1.2.3.4:5678``, ``::1`` or ``[::1]:5678``; ``None`` if it is none."""
    if entry.startswith("["):
        entry = entry[1:].partition("]")[0]
    elif entry.count(":") == 1:
        entry = entry.partition(":")[0]
    try:
        return str(ipaddress.ip_address(entry))
    except ValueError:
        return None


def _warn_once(header: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        log.warning(
            "X-Forwarded-For %r holds no address where the trusted proxy writes one: using the socket's "
            "address (check TRACKER_PROXY_HOPS; this warning is shown once)",
            header[:200],
        )
