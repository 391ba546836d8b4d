"""Shared pytest fixtures: real redis-server, tracker replicas and the reference tracker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.processes import Server, start_redis, start_reference, start_tracker


@dataclass
class Target:
    """A tracker deployment under test: the URLs its peers connect to, in turn."""

    name: str
    servers: list[Server]

    def ws(self, i: int) -> str:
        """Peer ``i``'s WebSocket URL: peers alternate between replicas."""
        return self.servers[i % len(self.servers)].ws_url

    def http(self, i: int = 0) -> str:
        return self.servers[i % len(self.servers)].http_url


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: Server) -> str:
    return f"redis://127.0.0.1:{redis_server.port}/0"


def _serve(name: str, redis_url: str) -> Iterator[Target]:
    if name == "memory":
        deployment = Target(name, [start_tracker()])
    elif name == "redis":
        deployment = Target(name, [start_tracker(redis_url=redis_url), start_tracker(redis_url=redis_url)])
    else:
        deployment = Target(name, [start_reference()])
    yield deployment
    for server in deployment.servers:
        server.stop()


@pytest.fixture(scope="module", params=["memory", "redis", "reference"])
def target(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Target]:
    """Every protocol behaviour is checked on one replica, on two replicas sharing
    Redis (peers alternate between them), and on the reference bittorrent-tracker."""
    yield from _serve(request.param, redis_url)


@pytest.fixture(scope="module", params=["memory", "redis"])
def ours(request: pytest.FixtureRequest, redis_url: str) -> Iterator[Target]:
    """Our tracker only: for behaviour where we go beyond the reference on purpose."""
    yield from _serve(request.param, redis_url)
