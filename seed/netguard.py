"""Which network addresses a followed feed may make the seeder reach: public ones only.

A volunteer's seeder fetches whatever URLs a feed names (enclosures, redirects, a
discovered feed link, a torrent's web seeds and trackers) and connects to whatever peers
its trackers return. Without a check, a hostile feed turns it into a proxy into the
volunteer's own network: loopback services, the LAN, a cloud's metadata address
(169.254.169.254). These ranges are refused unless a subscription opts in
(``seed follow --allow-private``); the same table feeds libtorrent's ``ip_filter``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Never a public host: unspecified, loopback, RFC 1918, CGNAT (RFC 6598), link-local,
#: IETF protocol assignments, benchmarking, multicast and reserved; IPv6 loopback,
#: unique-local, link-local and multicast. IPv4-mapped IPv6 is checked as its IPv4 address.
PRIVATE_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(text)
    for text in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)


def is_private(address: Address | str) -> bool:
    """Whether ``address`` (an IP address, not a host name) is outside the public internet."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in PRIVATE_NETWORKS)


class Refused(httpcore.ConnectError):
    """A URL's host is (or resolves to) a private address, and the subscription did not allow it.

    Said before any connection is tried, so the message tells nothing of what listens there.
    """

    def __init__(self, host: str) -> None:
        super().__init__(f"refused: {host} is a private address (seed follow --allow-private allows it)")


class PublicOnly(httpcore.SyncBackend):
    """httpcore's socket backend, resolving each host itself and connecting only to checked addresses.

    Every address a host resolves to must be public (one private one refuses the host, so a
    name cannot mix them), and the socket connects to those very addresses: a second lookup
    between the check and the connection (DNS rebinding) never happens. TLS still verifies
    and sends the host name, which httpcore takes from the URL, not from this call.
    """

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(f"cannot resolve {host}: {error.strerror or error}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if any(is_private(address) for address in addresses):
            raise Refused(host)
        last: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as error:
                last = error
        raise last or httpcore.ConnectError(f"{host} has no address")
