"""redis-py internals and typing gaps that the tracker's Redis code works around."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import cast

from redis.asyncio.client import PubSub
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError


def transport_of(connection: AbstractConnection) -> asyncio.Transport:
    """The asyncio transport under a connected redis-py connection, for a reader of our own (hiredis).

    redis-py keeps its stream writer private (``_writer``); the automatic pipeline
    (``tracker_app.store.pipelining``) takes the transport over after redis-py has
    connected, authenticated and selected the database as it always does.
    """
    writer = connection._writer
    if writer is None:
        raise ConnectionError("the Redis connection is not connected")
    return cast(asyncio.Transport, writer.transport)  # a stream's transport is a full one (uvloop's too)


async def close_pubsub(pubsub: PubSub) -> None:
    """``PubSub.aclose()``: typed only since redis-py 8.2, so a typed name for it passes mypy before and after."""
    close: Callable[[], Awaitable[None]] = pubsub.aclose
    await close()
