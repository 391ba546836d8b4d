"""A simulated internet: home networks behind NAT routers, around the test's own namespace.

The namespace scripts/test makes (``unshare -n``) is the public internet: a bridge holds
198.51.100.1, where the servers listen (tracker, site, ``seed run``, coturn), and
203.0.113.1, the routers' gateway. Each home is two named namespaces on veth pairs: its
router, 203.0.113.N on the bridge, masquerading 100.64.N.0/24 behind it, and one host,
100.64.N.2, where a viewer's Chromium runs. No home can route to another's addresses, so two
viewers meet only through their routers' public addresses (STUN) or a relay (TURN).

NATs, as iptables makes them (Linux conntrack):

- ``port-restricted``: MASQUERADE keeps a socket's port for every destination
  (endpoint-independent mapping) and lets in only replies from where it sent to;
- ``symmetric``: ``--random-fully`` gives each destination its own random port, so the
  port a STUN server saw is useless to a peer;
- ``block_udp``: the router drops all forwarded UDP (TURN over TCP is left).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .browser import CHROMIUM, CHROMIUM_FLAGS

#: Where the public servers listen, and the gateway every home router uses.
PUBLIC = "198.51.100.1"
GATEWAY = "203.0.113.1"
Nat = Literal["port-restricted", "symmetric"]


def _ip(*args: str, ns: str | None = None) -> None:
    prefix = ["ip", "netns", "exec", ns] if ns else []
    subprocess.run([*prefix, *args], check=True, capture_output=True)


@dataclass(frozen=True)
class Home:
    """One home network: a router with a public address and the host behind it."""

    number: int
    host: str
    router: str
    nat: Nat
    block_udp: bool

    @property
    def address(self) -> str:
        return f"100.64.{self.number}.2"

    @property
    def public_address(self) -> str:
        return f"203.0.113.{10 + self.number}"

    def chromium(self, workdir: Path) -> Path:
        """A script Playwright can launch as Chromium: the real one, run in this home's host.
        (Playwright talks to it over inherited pipes, which ``ip netns exec`` keeps.)"""
        path = workdir / f"chromium-{self.host}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.host} {CHROMIUM} "$@"\n')
        path.chmod(0o755)
        return path


def viewer_flags(*origins: str) -> list[str]:
    """Chromium's test flags, minus loopback peer connections (it must cross the NATs), with
    ``origins`` treated as secure: service workers need that, and the site is plain http."""
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--allow-loopback-in-peer-connection"]
    return [*flags, f"--unsafely-treat-insecure-origin-as-secure={','.join(origins)}"]


class Internet:
    """The public bridge and its homes; everything is removed on exit, even after a failure."""

    def __init__(self) -> None:
        #: Namespace names are global (/run/netns): the process id keeps parallel runs apart.
        self._prefix = f"vs{os.getpid()}"
        self._namespaces: list[str] = []
        self.homes: list[Home] = []

    def __enter__(self) -> Internet:
        try:
            _ip("ip", "link", "add", "vsnet", "type", "bridge")
            _ip("ip", "addr", "add", f"{PUBLIC}/24", "dev", "vsnet")
            _ip("ip", "addr", "add", f"{GATEWAY}/24", "dev", "vsnet")
            _ip("ip", "link", "set", "vsnet", "up")
            # The rest of the internet: a default route into a veth whose other end drops what
            # it gets (no forwarding here). Without it, coturn relaying to a peer's host candidate
            # (100.64.N.2) got ENETUNREACH and closed that allocation ("reason: general") about
            # 2 s into a relayed transfer; on the internet such packets just vanish.
            _ip("ip", "link", "add", "vsrest", "type", "veth", "peer", "name", "vsvoid")
            _ip("ip", "addr", "add", "192.0.2.1/30", "dev", "vsrest")
            _ip("ip", "addr", "add", "192.0.2.2/30", "dev", "vsvoid")
            _ip("ip", "link", "set", "vsrest", "up")
            _ip("ip", "link", "set", "vsvoid", "up")
            _ip("ip", "route", "add", "default", "via", "192.0.2.2", "dev", "vsrest")
        except BaseException:
            self.__exit__()
            raise
        return self

    def home(self, nat: Nat = "port-restricted", block_udp: bool = False) -> Home:
        number = len(self.homes) + 1
        home = Home(number, f"{self._prefix}-h{number}", f"{self._prefix}-r{number}", nat, block_udp)
        for ns in (home.router, home.host):
            _ip("ip", "netns", "add", ns)
            self._namespaces.append(ns)
            _ip("ip", "link", "set", "lo", "up", ns=ns)
        # The router's WAN: one end on the public bridge, the other in the router.
        _ip("ip", "link", "add", f"vsw{number}", "type", "veth", "peer", "name", "wan", "netns", home.router)
        _ip("ip", "link", "set", f"vsw{number}", "master", "vsnet", "up")
        _ip("ip", "addr", "add", f"{home.public_address}/24", "dev", "wan", ns=home.router)
        _ip("ip", "link", "set", "wan", "up", ns=home.router)
        _ip("ip", "route", "add", "default", "via", GATEWAY, ns=home.router)
        # The LAN: router 100.64.N.1, host 100.64.N.2.
        _ip(
            "ip", "link", "add", "lan", "netns", home.router, "type", "veth", "peer", "name", "eth0", "netns", home.host
        )
        _ip("ip", "addr", "add", f"100.64.{number}.1/24", "dev", "lan", ns=home.router)
        _ip("ip", "link", "set", "lan", "up", ns=home.router)
        _ip("ip", "addr", "add", f"{home.address}/24", "dev", "eth0", ns=home.host)
        _ip("ip", "link", "set", "eth0", "up", ns=home.host)
        _ip("ip", "route", "add", "default", "via", f"100.64.{number}.1", ns=home.host)
        _ip("sysctl", "-qw", "net.ipv4.ip_forward=1", ns=home.router)
        masquerade = ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE"]
        _ip(*masquerade, *(["--random-fully"] if nat == "symmetric" else []), ns=home.router)
        # As a home router's firewall: unsolicited packets to the router itself are dropped. If
        # they were let in (to be refused by the stack), conntrack would keep an entry for each,
        # and the host's own hole-punching packet to that peer would then clash with it and be
        # given another port: every peer's first check would break its own mapping.
        _ip(
            "iptables",
            "-A",
            "INPUT",
            "-i",
            "wan",
            "-m",
            "conntrack",
            "--ctstate",
            "NEW,INVALID",
            "-j",
            "DROP",
            ns=home.router,
        )
        if block_udp:
            _ip("iptables", "-A", "FORWARD", "-p", "udp", "-j", "DROP", ns=home.router)
        self.homes.append(home)
        return home

    def __exit__(self, *exc: object) -> None:
        for ns in reversed(self._namespaces):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)  # its veths go with it
        self._namespaces.clear()
        subprocess.run(["ip", "link", "del", "vsnet"], capture_output=True)
        subprocess.run(["ip", "link", "del", "vsrest"], capture_output=True)  # vsvoid goes with it


#: coturn's configuration as docs/deploy.md ships it; the test changes only what a machine must.
TURNSERVER_CONF = Path(__file__).resolve().parents[2] / "docs/turnserver.conf"


@contextmanager
def coturn(workdir: Path, secret: str) -> Iterator[subprocess.Popen[bytes]]:
    """Debian's coturn on :data:`PUBLIC`:3478 (UDP and TCP, STUN and TURN), with ``secret`` for
    the tracker's time-limited credentials."""
    log = workdir / "turnserver.log"
    proc = subprocess.Popen(
        [
            "turnserver",
            "-c",
            str(TURNSERVER_CONF),
            f"--listening-ip={PUBLIC}",
            f"--relay-ip={PUBLIC}",
            f"--static-auth-secret={secret}",
            "--realm=videoswarm.test",
            "--no-tls",
            "--no-dtls",
            f"--log-file={log}",
            f"--pidfile={workdir / 'turnserver.pid'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection((PUBLIC, 3478), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"coturn did not start: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)
