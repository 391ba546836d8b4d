"""Requests per client address, for HTTP announces: a client without a socket has only its address.

Counts reset every window (one announce interval). The table is bounded: past
``max_addresses`` entries, finished windows are dropped, and if every entry is
still live the table starts over (the limit then fails open for one window rather
than let a flood of addresses grow the replica's memory). IPv6 addresses count per
/64, the block one host or home usually holds, so rotating through its addresses
does not multiply the allowance.
"""

from __future__ import annotations

import ipaddress
import time


class AddressRate:
    __slots__ = ("limit", "window", "max_addresses", "_counts")

    def __init__(self, limit: int, window: float, max_addresses: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_addresses = max_addresses
        #: address -> [window start, requests in it]
        self._counts: dict[str, list[float]] = {}

    def allow(self, ip: str) -> bool:
        """Count one request from ``ip``; False once it made ``limit`` in its current window."""
        now = time.monotonic()
        key = _bucket(ip)
        entry = self._counts.get(key)
        if entry is None or now - entry[0] >= self.window:
            if entry is None and len(self._counts) >= self.max_addresses:
                self._make_room(now)
            entry = self._counts[key] = [now, 0]
        entry[1] += 1
        return entry[1] <= self.limit

    def __len__(self) -> int:
        return len(self._counts)

    def _make_room(self, now: float) -> None:
        self._counts = {key: entry for key, entry in self._counts.items() if now - entry[0] < self.window}
        if len(self._counts) >= self.max_addresses:
            self._counts.clear()


def _bucket(ip: str) -> str:
    """The address itself for IPv4, its /64 for IPv6."""
    if ":" not in ip:
        return ip
    try:
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False).network_address)
    except ValueError:
        return ip
