"""Shared pytest fixtures: real redis-server, tracker replicas and the reference tracker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.processes import Server, start_redis, start_redis_cluster, start_reference, start_tracker


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


def tracker_fixture(scope: Any = "module", **env: str) -> Callable[[], Iterator[Server]]:
    """A fixture serving one tracker started with ``env``: ``name = tracker_fixture(...)`` in a test module."""

    @pytest.fixture(scope=scope)
    def serve() -> Iterator[Server]:
        server = start_tracker(**env)
        yield server
        server.stop()

    return serve


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: Server) -> str:
    return f"redis://127.0.0.1:{redis_server.port}/0"


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """Three primaries, so swarms land on different shards."""
    servers = start_redis_cluster(tmp_path_factory.mktemp("cluster"))
    yield servers
    for server in servers:
        server.stop()


def _serve(name: str, request: pytest.FixtureRequest) -> Iterator[Target]:
    if name == "memory":
        deployment = Target(name, [start_tracker()])
    elif name == "redis":
        url = request.getfixturevalue("redis_url")
        deployment = Target(name, [start_tracker(redis_url=url), start_tracker(redis_url=url)])
    elif name == "cluster":
        nodes = request.getfixturevalue("redis_cluster")
        deployment = Target(
            name,
            [start_tracker(redis_url=f"redis://127.0.0.1:{node.port}/0", REDIS_CLUSTER="true") for node in nodes[:2]],
        )
    else:
        deployment = Target(name, [start_reference()])
    yield deployment
    for server in deployment.servers:
        server.stop()


@pytest.fixture(scope="module", params=["memory", "redis", "cluster", "reference"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Every protocol behaviour is checked on one replica, on two replicas sharing
    Redis, on two replicas sharing a Redis Cluster (peers alternate between
    replicas), and on the reference bittorrent-tracker."""
    yield from _serve(request.param, request)


@pytest.fixture(scope="module", params=["memory", "redis"])
def ours(request: pytest.FixtureRequest) -> Iterator[Target]:
    """Our tracker only: for behaviour where we go beyond the reference on purpose."""
    yield from _serve(request.param, request)
