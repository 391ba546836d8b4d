"""Automatic pipelining: Redis commands issued in the same event-loop turn share one round trip.

Under load many sockets announce in the same turn of the loop; sending their
scripts as one pipeline costs one connection checkout, one write and one read
instead of one each, which is most of what a Redis call costs a replica.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis.asyncio as aioredis

Command = tuple[Any, ...]


class AutoPipeline:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._queue: list[tuple[list[Command], asyncio.Future[list[Any]]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def execute(self, commands: list[Command]) -> list[Any]:
        """Replies to ``commands``, in order; a command's error is its reply, a lost connection is raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        self._queue.append((commands, future))
        if len(self._queue) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        task = asyncio.create_task(self._send(batch))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _send(self, batch: list[tuple[list[Command], asyncio.Future[list[Any]]]]) -> None:
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for commands, _ in batch:
                    for command in commands:
                        pipe.execute_command(*command)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # noqa: BLE001 - every waiting caller gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        start = 0
        for commands, future in batch:
            if not future.done():  # its caller may have been cancelled (the socket closed)
                future.set_result(replies[start:start + len(commands)])
            start += len(commands)
