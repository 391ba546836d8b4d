"""Cross-replica relay over Redis pub/sub: one channel per replica.

A replica publishes the messages meant for another replica's sockets on that
replica's channel, batched per event-loop turn: whatever this replica relays
while handling one turn's frames costs one PUBLISH per replica involved, all in
one round trip. Plain PUBLISH is broadcast across a Redis Cluster, so this works
unchanged against one node of a cluster.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from tracker_app.peers import Route
from tracker_app.relay.base import Deliver, Delivery, OfferOrigin, Relay
from tracker_app.store.base import StoreUnavailable

log = logging.getLogger("tracker_app.relay")


def channel(replica: str) -> str:
    return f"vs:relay:{replica}"


class _Outbox:
    """Deliveries for other replicas gathered during one event-loop turn, and when they were published."""

    def __init__(self) -> None:
        self.batches: dict[str, list[list[object]]] = defaultdict(list)
        self.published: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Senders whose socket closed stop waiting; a failure nobody awaits is not an error to report.
        self.published.add_done_callback(lambda future: future.cancelled() or future.exception())


class RedisRelay(Relay):
    def __init__(self, replica: str, client: aioredis.Redis) -> None:
        super().__init__(replica)
        self._redis = client
        self._outbox: _Outbox | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)
        self._task: asyncio.Task[None] | None = None

    async def start(self, deliver: Deliver) -> None:
        await super().start(deliver)
        await self._pubsub.subscribe(channel(self.replica))
        self._task = asyncio.create_task(self._listen(), name="relay-listen")

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
        task = asyncio.create_task(self._publish(outbox))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, outbox: _Outbox) -> None:
        """One PUBLISH per replica for the whole loop turn, all in one round trip."""
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for replica, batch in outbox.batches.items():
                    pipe.publish(channel(replica), orjson.dumps(batch))
                await pipe.execute()
        except (RedisError, OSError) as exc:
            outbox.published.set_exception(StoreUnavailable(f"Redis does not answer: {exc}"))
        else:
            outbox.published.set_result(None)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._pubsub.aclose()

    async def _listen(self) -> None:
        """Deliver what other replicas publish for us; resubscribe after an outage."""
        backoff = 0.1
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
                backoff = 0.1
            except (RedisError, OSError) as exc:
                log.warning("relay channel lost (%s); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                try:
                    await self._pubsub.aclose()
                    self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                    await self._pubsub.subscribe(channel(self.replica))
                except (RedisError, OSError):
                    pass
                continue
            if message is None:
                continue
            for item in orjson.loads(message["data"]):
                self._deliver(_unpack(item, self.replica))


def _pack(delivery: Delivery) -> list[object]:
    item: list[object] = [delivery.route.conn, delivery.text]
    if delivery.origin is not None:
        origin = delivery.origin
        item += [origin.peer_id.decode("latin-1"), origin.offer_id.decode("latin-1"), origin.route.replica,
                 origin.route.conn]
    return item


def _unpack(item: list, replica: str) -> Delivery:
    origin = None
    if len(item) > 2:
        origin = OfferOrigin(item[2].encode("latin-1"), item[3].encode("latin-1"), Route(item[4], item[5]))
    return Delivery(Route(replica, item[0]), item[1], origin)
