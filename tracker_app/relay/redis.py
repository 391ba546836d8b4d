"""Cross-replica relay over Redis pub/sub: one channel per replica.

A replica publishes the messages meant for another replica's sockets on that
replica's channel, batched per event-loop turn: whatever this replica relays
while handling one turn's frames costs one PUBLISH per replica involved, all in
one round trip.

On a Redis Cluster the relay uses sharded pub/sub (``SPUBLISH``/``SSUBSCRIBE``,
Redis 7): a replica's channel carries its id as hash tag, lives on one shard, and a
message travels only to that shard. Classic ``PUBLISH`` is broadcast to every node
of a cluster, so its cost would grow with the number of shards.

The listener runs supervised (:mod:`tracker_app.supervisor`): whatever ends it
(Redis restarting, redis-py's ``RuntimeError`` from a ``PubSub`` that subscribed
while Redis was down, a slot moving to another shard), it subscribes again with a
fresh connection within :data:`~tracker_app.supervisor.MAX_BACKOFF` seconds of
Redis answering again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, cast

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import parse_url
from redis.exceptions import RedisError

from tracker_app.peers import SocketId
from tracker_app.relay.base import Deliver, Delivery, OfferOrigin, Relay, RelayUnavailable
from tracker_app.store.pipelining import AutoPipeline
from tracker_app.store.redis import connect
from tracker_app.supervisor import supervise
from videoswarm_compat.redis import close_pubsub

log = logging.getLogger("tracker_app.relay")

#: Seconds a listener waits for a message before looking at its connection again.
_POLL = 1.0


def channel(replica: str) -> str:
    """The replica's channel; its id is the hash tag, so on a cluster it lives on one shard."""
    return f"vs:relay:{{{replica}}}"


class _Outbox:
    """Deliveries for other replicas gathered during one event-loop turn, and when they were published."""

    def __init__(self) -> None:
        self.batches: dict[str, list[list[object]]] = defaultdict(list)
        self.published: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Senders whose socket closed stop waiting; a failure nobody awaits is not an error to report.
        self.published.add_done_callback(lambda future: future.cancelled() or future.exception())


class RedisRelay(Relay):
    """Relay through the Redis at ``url``; ``cluster`` switches to sharded pub/sub."""

    def __init__(self, replica: str, url: str, cluster: bool = False) -> None:
        super().__init__(replica)
        self._url = url
        self._redis: aioredis.Redis | RedisCluster = connect(url, cluster)
        self._pipeline = None if isinstance(self._redis, RedisCluster) else AutoPipeline(self._redis)
        self._outbox: _Outbox | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = False

    @property
    def sharded(self) -> bool:
        return isinstance(self._redis, RedisCluster)

    async def start(self, deliver: Deliver) -> None:
        await super().start(deliver)
        self._listener = supervise("relay listener", self._listen)

    def check(self) -> None:
        if not self._subscribed:
            raise RelayUnavailable("not subscribed to this replica's relay channel: Redis does not answer")

    async def send(self, deliveries: Sequence[Delivery]) -> None:
        """Deliver local messages now; publish the others with everything else sent this loop turn."""
        outbox = None
        for delivery in deliveries:
            if delivery.route.replica == self.replica:
                self._deliver(delivery)
                continue
            if outbox is None:
                outbox = self._current_outbox()
            outbox.batches[delivery.route.replica].append(_pack(delivery))
        if outbox is not None:
            await asyncio.shield(outbox.published)

    def _current_outbox(self) -> _Outbox:
        if self._outbox is None:
            self._outbox = _Outbox()
            asyncio.get_running_loop().call_soon(self._flush)
        return self._outbox

    def _flush(self) -> None:
        outbox, self._outbox = self._outbox, None
        assert outbox is not None
        task = asyncio.create_task(self._publish(outbox))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, outbox: _Outbox) -> None:
        """One PUBLISH per replica for the whole loop turn, in one round trip (one per shard on a cluster)."""
        messages = [(channel(replica), orjson.dumps(batch)) for replica, batch in outbox.batches.items()]
        try:
            if self._pipeline is None:
                cluster = cast(RedisCluster, self._redis)
                await asyncio.gather(*(cluster.spublish(name, data) for name, data in messages))
            else:
                for reply in await self._pipeline.execute([("PUBLISH", name, data) for name, data in messages]):
                    if isinstance(reply, Exception):
                        raise reply
        except (RedisError, OSError) as exc:
            outbox.published.set_exception(RelayUnavailable(f"Redis does not answer: {exc}"))
        else:
            outbox.published.set_result(None)

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
        if self._pipeline is not None:
            self._pipeline.close()
        await self._redis.aclose()

    async def _listen(self) -> None:
        """Subscribe on a fresh connection and deliver what other replicas publish, until the channel is lost."""
        client = await self._subscriber()
        pubsub = client.pubsub()
        try:
            name = channel(self.replica)
            if self.sharded:
                await pubsub.ssubscribe(name)
            else:
                await pubsub.subscribe(name)
            while True:
                message = await pubsub.get_message(timeout=_POLL)
                if message is None:
                    continue
                kind = message["type"]
                if kind in ("subscribe", "ssubscribe"):
                    self._subscribed = True
                    log.info("relay subscribed to %s%s", name, " (sharded)" if self.sharded else "")
                elif kind in ("message", "smessage"):
                    for item in orjson.loads(message["data"]):
                        self._deliver(_unpack(item, self.replica))
                else:  # unsubscribed by the server: the channel's slot moved to another shard
                    raise RelayUnavailable(f"relay channel {name} closed by Redis ({kind})")
        finally:
            self._subscribed = False
            await _quietly(close_pubsub(pubsub))
            await _quietly(client.aclose())

    async def _subscriber(self) -> aioredis.Redis:
        """A connection of its own for the subscription: to the shard that owns the channel on a cluster."""
        options: dict[str, Any] = dict(parse_url(self._url))
        if isinstance(self._redis, RedisCluster):
            await self._redis.initialize()
            node = self._redis.get_node_from_key(channel(self.replica))
            if node is None:
                raise RelayUnavailable("no cluster node owns the relay channel's slot")
            options.update(host=node.host, port=node.port)
        pool = aioredis.ConnectionPool(socket_connect_timeout=3, health_check_interval=30, **options)
        return aioredis.Redis.from_pool(pool)


async def _quietly(closing: Any) -> None:
    """Close a connection that may already be broken."""
    try:
        await closing
    except (RedisError, OSError, RuntimeError) as exc:
        log.debug("closing a relay connection: %s", exc)


def _pack(delivery: Delivery) -> list[object]:
    item: list[object] = [delivery.route.conn, delivery.text]
    if delivery.origin is not None:
        origin = delivery.origin
        item += [
            origin.peer_id.decode("latin-1"),
            origin.offer_id.decode("latin-1"),
            origin.route.replica,
            origin.route.conn,
        ]
    return item


def _unpack(item: list[Any], replica: str) -> Delivery:
    origin = None
    if len(item) > 2:
        origin = OfferOrigin(item[2].encode("latin-1"), item[3].encode("latin-1"), SocketId(item[4], item[5]))
    return Delivery(SocketId(replica, item[0]), item[1], origin)
