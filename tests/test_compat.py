"""Each hook into a dependency's private API (videoswarm_compat) exists and behaves on the installed version.

An upgrade of uvicorn or redis-py that renames what we reach into fails here, by name,
rather than in a replica or a seeder. The protocols run on real loopback sockets, and
the Redis hooks on a real redis-server.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import httptools
import pytest
import redis.asyncio as aioredis
import uvicorn
from redis.exceptions import ConnectionError
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from videoswarm_compat.redis import close_pubsub, transport_of
from videoswarm_compat.uvicorn import H11WithRequestHook, open_connections, should_upgrade, stop_keepalive_timer

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def upgrade(to: bytes) -> bytes:
    return (
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: " + to + b"\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )


async def hello(_: object) -> PlainTextResponse:
    return PlainTextResponse("hello")


class Served:
    """One uvicorn HTTP protocol serving a small app on one end of a loopback socket pair."""

    def __init__(self, protocol: HttpToolsProtocol | H11Protocol, client: socket.socket) -> None:
        self.protocol = protocol
        self.client = client

    async def request(self, data: bytes = REQUEST) -> bytes:
        """Send a request from the client end; the response's head and body."""
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.client, data)
        answer = b""
        while not answer.endswith(b"hello"):
            answer += await loop.sock_recv(self.client, 65536)
        return answer


@pytest.fixture(params=[HttpToolsProtocol, H11Protocol, H11WithRequestHook])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[Served]:
    kind: type[HttpToolsProtocol | H11Protocol] = request.param
    config = uvicorn.Config(Starlette(routes=[Route("/", hello)]), ws="websockets-sansio", log_config=None)
    config.load()
    server_end, client = socket.socketpair()
    client.setblocking(False)
    protocol = kind(config, ServerState(), {})
    await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, server_end)
    yield Served(protocol, client)
    protocol.transport.close()
    client.close()


async def test_should_upgrade_tells_a_websocket_upgrade_from_another() -> None:
    config = uvicorn.Config(Starlette(), ws="websockets-sansio", log_config=None)
    config.load()
    answers = []
    for to in (b"websocket", b"h2c"):
        protocol = HttpToolsProtocol(config, ServerState(), {})
        server_end, client = socket.socketpair()
        await asyncio.get_running_loop().connect_accepted_socket(lambda p=protocol: p, server_end)
        with pytest.raises(httptools.HttpParserUpgrade):
            protocol.parser.feed_data(upgrade(to))
        answers.append(should_upgrade(protocol))
        protocol.transport.close()
        client.close()
    assert answers == [True, False]


async def test_stop_keepalive_timer_cancels_the_timer_of_an_idle_connection(served: Served) -> None:
    assert (await served.request()).startswith(b"HTTP/1.1 200 ")
    timer = served.protocol.timeout_keep_alive_task
    assert timer is not None, "uvicorn arms a keep-alive timer once a response is complete"
    stop_keepalive_timer(served.protocol)
    assert timer.cancelled() and served.protocol.timeout_keep_alive_task is None


async def test_open_connections_holds_the_connection_while_it_is_open(served: Served) -> None:
    connections = open_connections(served.protocol)
    assert served.protocol in connections
    served.protocol.transport.close()
    await asyncio.sleep(0)  # connection_lost is called soon after close
    assert served.protocol not in connections


async def test_the_h11_request_hook_runs_once_per_request() -> None:
    heard: list[int] = []

    class Counting(H11WithRequestHook):
        def on_request_headers(self) -> None:
            heard.append(len(heard) + 1)

    config = uvicorn.Config(Starlette(routes=[Route("/", hello)]), log_config=None)
    config.load()
    server_end, client = socket.socketpair()
    client.setblocking(False)
    protocol = Counting(config, ServerState(), {})
    await asyncio.get_running_loop().connect_accepted_socket(lambda: protocol, server_end)
    served = Served(protocol, client)
    assert (await served.request()).startswith(b"HTTP/1.1 200 ")
    assert heard == [1]
    assert (await served.request()).startswith(b"HTTP/1.1 200 "), "a second request on the kept-alive connection"
    assert heard == [1, 2]
    protocol.transport.close()
    client.close()


class _Collect(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.replied = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.data += data
        if self.data.endswith(b"\r\n") and not self.replied.done():
            self.replied.set_result(self.data)


async def test_transport_of_a_redis_connection_carries_commands(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    connection = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
    with pytest.raises(ConnectionError):
        transport_of(connection)
    await connection.connect()
    transport = transport_of(connection)
    reader = _Collect()
    transport.set_protocol(reader)
    transport.write(b"*1\r\n$4\r\nPING\r\n")
    assert await asyncio.wait_for(reader.replied, 5) == b"+PONG\r\n"
    transport.close()
    await client.aclose()


async def test_close_pubsub_releases_the_subscription(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    await pubsub.subscribe("videoswarm-compat")
    assert pubsub.connection is not None
    await close_pubsub(pubsub)
    assert pubsub.connection is None and not pubsub.subscribed
    await client.aclose()
