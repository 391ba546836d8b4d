"""Automatic pipelining: Redis commands issued in the same event-loop turn share one round trip.

Under load many sockets announce in the same turn of the loop; their scripts go
out as one write on one connection, and the replies come back in order. Commands
are packed and replies parsed by hiredis, in C: redis-py's pipeline did both in
Python, with a connection checkout, a task and retry wrappers per batch (14 % of
the replica's CPU under the bench load). A batch written while earlier ones are
still unanswered simply follows them on the same connection.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError, NoScriptError, ResponseError

from videoswarm_compat.redis import transport_of

Command = tuple[Any, ...]
_Waiter = tuple[int, list[Any], "asyncio.Future[list[Any]]"]


class _Replies(asyncio.Protocol):
    """One Redis connection's reading side: replies go to the batches in the order they were written."""

    def __init__(self, owner: Any, transport: asyncio.Transport, timeout: float) -> None:
        #: redis-py's connection that made the transport: it closes the transport when collected.
        self._owner = owner
        self.transport = transport
        self.open = True
        self._reader = hiredis.Reader(replyError=ResponseError)
        self._waiting: deque[_Waiter] = deque()
        self._timeout = timeout
        self._loop = asyncio.get_running_loop()
        #: When Redis last answered, or a batch was written to a connection with nothing unanswered.
        self._progress = self._loop.time()
        self._watch = self._loop.call_later(timeout, self._check)

    def write(self, batch: list[tuple[list[Command], asyncio.Future[list[Any]]]]) -> None:
        if not self._waiting:
            self._progress = self._loop.time()
        packed = []
        for commands, future in batch:
            packed += [hiredis.pack_command(command) for command in commands]
            self._waiting.append((len(commands), [], future))
        self.transport.write(b"".join(packed))

    def data_received(self, data: bytes) -> None:
        self._progress = self._loop.time()
        self._reader.feed(data)
        waiting = self._waiting
        while (reply := self._reader.gets()) is not False:
            if isinstance(reply, ResponseError) and str(reply).startswith("NOSCRIPT"):
                reply = NoScriptError(str(reply))
            if not waiting:
                self._fail(ConnectionError("Redis sent a reply nobody asked for"))
                return
            count, replies, future = waiting[0]
            replies.append(reply)
            if len(replies) == count:
                waiting.popleft()
                if not future.done():  # its caller may have been cancelled (the socket closed)
                    future.set_result(replies)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError(f"Redis closed the connection: {exc or 'end of stream'}"))

    def _check(self) -> None:
        """Give up on a Redis that stopped answering (``socket_timeout``): every waiting caller gets the failure."""
        if not self.open:
            return
        if self._waiting and self._loop.time() - self._progress > self._timeout:
            self._fail(ConnectionError(f"Redis did not answer within {self._timeout:g} s"))
            return
        self._watch = self._loop.call_later(1.0, self._check)

    def _fail(self, exc: Exception) -> None:
        self.open = False
        self._watch.cancel()
        self.transport.abort()
        waiting, self._waiting = self._waiting, deque()
        for _, _, future in waiting:
            if not future.done():
                future.set_exception(exc)


class AutoPipeline:
    """Batches of commands from one loop turn, written together on one connection of its own."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._pool = client.connection_pool
        self._timeout = float(self._pool.connection_kwargs.get("socket_timeout") or 5)
        self._queue: list[tuple[list[Command], asyncio.Future[list[Any]]]] = []
        self._connection: _Replies | None = None
        self._connecting = asyncio.Lock()
        self._flushing: set[asyncio.Task[None]] = set()

    async def execute(self, commands: list[Command]) -> list[Any]:
        """Replies to ``commands``, in order; a command's error is its reply, a lost connection is raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.append((commands, future))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return await future

    def close(self) -> None:
        if self._connection is not None and self._connection.open:
            self._connection.open = False
            self._connection.transport.close()

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        connection = self._connection
        if connection is not None and connection.open:
            connection.write(batch)
            return
        task = asyncio.create_task(self._reconnect_and_write(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _reconnect_and_write(self, batch: list[tuple[list[Command], asyncio.Future[list[Any]]]]) -> None:
        try:
            async with self._connecting:  # batches flushed meanwhile wait for the same connection
                if self._connection is None or not self._connection.open:
                    self._connection = await self._connect()
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._connection.write(batch)

    async def _connect(self) -> _Replies:
        """A connection made as the client's pool makes them (address, TLS, AUTH, SELECT), then read by hiredis here."""
        connection = self._pool.make_connection()  # type: ignore[no-untyped-call]
        await connection.connect()
        transport = transport_of(connection)
        replies = _Replies(connection, transport, self._timeout)
        transport.set_protocol(replies)
        return replies
