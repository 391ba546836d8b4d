"""The BitTorrent HTTP tracker protocol: query-string requests, bencoded replies.

``info_hash`` and ``peer_id`` are raw bytes percent-encoded in the query string, so
the query is parsed here from its bytes instead of as text. Replies follow BEP 3,
compact peer lists BEP 23 (IPv4) and BEP 7 (``peers6``), scrape BEP 48.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote_to_bytes

import fastbencode

from tracker_app.peers import EVENTS, Event, InfoHash, PeerId, ScrapeCounts
from tracker_app.wire.errors import WireError

_bencode: Callable[[object], bytes] = fastbencode.bencode  # typed: the compiled module ships no stubs

_EVENTS = {name.encode(): event for name, event in EVENTS.items()}


@dataclass(slots=True)
class HttpAnnounce:
    info_hash: InfoHash
    peer_id: PeerId
    port: int
    event: Event
    seeder: bool
    numwant: int
    compact: bool
    no_peer_id: bool


def parse_query(query: bytes) -> dict[bytes, list[bytes]]:
    """Split a raw query string; values stay bytes."""
    params: dict[bytes, list[bytes]] = {}
    for part in query.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        params.setdefault(unquote_to_bytes(name.replace(b"+", b" ")), []).append(
            unquote_to_bytes(value.replace(b"+", b" "))
        )
    return params


def parse_announce(query: bytes, default_numwant: int, max_numwant: int) -> HttpAnnounce:
    params = parse_query(query)
    info_hash = InfoHash(_hash(params, b"info_hash"))
    try:
        peer_id = PeerId(_hash(params, b"peer_id"))
        port = _int(params, b"port")
        if port is None or not 0 < port < 65536:
            raise WireError("port must be a number from 1 to 65535")
        event = _one(params, b"event") or b""
        if event not in _EVENTS:
            raise WireError(f"invalid event: {event.decode('latin-1')[:20]!r}")
        left = _int(params, b"left")
        numwant = _int(params, b"numwant")
        return HttpAnnounce(
            info_hash=info_hash,
            peer_id=peer_id,
            port=port,
            event=_EVENTS[event],
            seeder=left == 0,
            numwant=min(default_numwant if numwant is None else numwant, max_numwant),
            compact=_one(params, b"compact") != b"0",
            no_peer_id=_one(params, b"no_peer_id") == b"1",
        )
    except WireError as exc:
        raise WireError(exc.reason, "announce", info_hash) from None


def parse_scrape(query: bytes, max_hashes: int) -> list[InfoHash] | None:
    """The requested info hashes, or ``None`` for every torrent."""
    hashes = parse_query(query).get(b"info_hash")
    if hashes is None:
        return None
    if len(hashes) > max_hashes:
        raise WireError(f"too many info_hash values: at most {max_hashes} per scrape", "scrape")
    for value in hashes:
        if len(value) != 20:
            raise WireError(f"info_hash must be 20 bytes, not {len(value)}", "scrape")
    return cast(list[InfoHash], hashes)  # each checked above


def compact_address(ip: str, port: int) -> bytes:
    """The 6-byte (IPv4) or 18-byte (IPv6) compact form of an address (BEP 23, BEP 7)."""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.packed + struct.pack(">H", port)


def announce_response(
    peers: list[tuple[bytes, bytes]], complete: int, incomplete: int, interval: int, request: HttpAnnounce
) -> bytes:
    """``peers`` are ``(compact address, peer_id)`` pairs from the swarm."""
    reply: dict[bytes, object] = {
        b"interval": interval,
        b"min interval": interval // 2 or 1,
        b"complete": complete,
        b"incomplete": incomplete,
    }
    if request.compact:
        reply[b"peers"] = b"".join(addr for addr, _ in peers if len(addr) == 6)
        reply[b"peers6"] = b"".join(addr for addr, _ in peers if len(addr) == 18)
    else:
        reply[b"peers"] = [_peer_dict(addr, peer_id, request.no_peer_id) for addr, peer_id in peers]
    return _bencode(reply)


def scrape_response(files: dict[InfoHash, ScrapeCounts], interval: int) -> bytes:
    return _bencode(
        {
            b"files": {
                info_hash: {b"complete": c.complete, b"incomplete": c.incomplete, b"downloaded": c.downloaded}
                for info_hash, c in files.items()
            },
            b"flags": {b"min_request_interval": interval},
        }
    )


def failure(reason: str) -> bytes:
    return _bencode({b"failure reason": reason.encode()})


def _peer_dict(addr: bytes, peer_id: bytes, no_peer_id: bool) -> dict[bytes, object]:
    ip = str(ipaddress.ip_address(addr[:-2]))
    entry: dict[bytes, object] = {b"ip": ip.encode(), b"port": struct.unpack(">H", addr[-2:])[0]}
    if not no_peer_id:
        entry[b"peer id"] = peer_id
    return entry


def _one(params: dict[bytes, list[bytes]], name: bytes) -> bytes | None:
    values = params.get(name)
    return values[0] if values else None


def _hash(params: dict[bytes, list[bytes]], name: bytes) -> bytes:
    value = _one(params, name)
    label = name.decode()
    if value is None:
        raise WireError(f"missing {label}")
    if len(value) != 20:
        raise WireError(f"{label} must be 20 bytes, not {len(value)}")
    return value


def _int(params: dict[bytes, list[bytes]], name: bytes) -> int | None:
    value = _one(params, name)
    if value is None or value == b"":
        return None
    try:
        number = int(value)
    except ValueError:
        raise WireError(f"{name.decode()} must be a whole number") from None
    if number < 0:
        raise WireError(f"{name.decode()} must not be negative")
    return number
