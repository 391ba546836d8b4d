"""Real servers for tests and benchmarks, each a child process bound to loopback.

redis-server, tracker replicas (``python -m tracker_app``) and the reference
bittorrent-tracker are started the way an operator would start them, so tests
exercise the same code paths as a deployment.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Ask the kernel for an unused loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free and valid too."""
    while True:
        port = random.randint(20000, 29999)
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


class Loopback:
    """A tracker's URLs on a loopback port (a process here, or in the test's process: tests/support/lean.py)."""

    port: int
    host: str = "127.0.0.1"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/announce"


@dataclass
class Server(Loopback):
    """A child process serving on one loopback port."""

    name: str
    proc: subprocess.Popen
    port: int
    env: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def kill(self) -> None:
        """Die hard, as a crashed replica would: no cleanup runs."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def _wait_until(ready, server: Server, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.proc.returncode} before it was ready")
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"{server.name} was not ready within {timeout} s")


def start_redis(workdir: Path, port: int | None = None, cluster: bool = False) -> Server:
    """A throwaway redis-server with no persistence."""
    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    extra = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"] if cluster else []
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--loglevel",
            "warning",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
    )
    server = Server("redis-server", proc, port)

    def ready() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    _wait_until(ready, server)
    return server


def start_redis_cluster(workdir: Path, nodes: int = 3) -> list[Server]:
    """A Redis Cluster of ``nodes`` primaries on loopback, slots spread evenly."""
    servers = [start_redis(workdir / str(i), _cluster_port(), cluster=True) for i in range(nodes)]
    subprocess.run(
        ["redis-cli", "--cluster", "create", *(f"127.0.0.1:{s.port}" for s in servers), "--cluster-yes"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while (
        b"cluster_state:ok"
        not in subprocess.run(["redis-cli", "-p", str(servers[0].port), "cluster", "info"], capture_output=True).stdout
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("Redis Cluster did not reach cluster_state:ok")
        time.sleep(0.1)
    return servers


def start_tracker(port: int | None = None, redis_url: str | None = None, host: str = "127.0.0.1", **env: str) -> Server:
    """One tracker replica, started as the Procfile does but on loopback (or ``host``, netsim's public address).

    Extra keyword arguments become environment variables (``TRACKER_INTERVAL="5"``).
    """
    port = port or free_port()
    # Not measured by coverage (scripts/test): tracing made replicas ~1.8x slower and load tests
    # flaky. The tracker's code is measured by the in-process tests (test_app_inprocess.py).
    child_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "COVERAGE_PROCESS_CONFIG")}
    if redis_url:
        child_env["REDIS_URL"] = redis_url
    child_env.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker_app", "--host", host, "--port", str(port)],
        cwd=ROOT,
        env=child_env,
    )
    server = Server("tracker", proc, port, env, host)
    _wait_until(lambda: httpx.get(f"{server.http_url}/health", timeout=2).status_code == 200, server)
    return server


def start_reference(port: int | None = None, interval_ms: int = 600_000) -> Server:
    """The reference bittorrent-tracker from npm (HTTP and WebSocket on one port)."""
    port = port or free_port()
    proc = subprocess.Popen(
        ["node", str(ROOT / "tests/support/reference_tracker.mjs"), str(port), str(interval_ms)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    server = Server("bittorrent-tracker", proc, port)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("listening"):
        server.stop()
        raise RuntimeError(f"reference tracker did not start: {line!r}")
    return server
