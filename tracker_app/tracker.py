"""What the tracker does with a request, whatever carried it.

A frame arrives, the wire parses and validates it, the swarm store records it
and picks peers, the relay delivers offers and answers (here or on another
replica), and the connection sends. Endpoints only adapt transports to this.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from typing import Any

from tracker_app.allowlist import Allowlist
from tracker_app.clients import HttpClients
from tracker_app.config import Settings
from tracker_app.connections import Connection, Connections
from tracker_app.eager import start_eagerly
from tracker_app.metrics import Metrics
from tracker_app.peers import Claim, Event, Kind, PeerEntry, PeerIdTaken, SocketId
from tracker_app.ratelimit import AddressRate
from tracker_app.relay.base import Delivery, OfferOrigin, Relay, RelayUnavailable
from tracker_app.store.base import StoreUnavailable, SwarmStore
from tracker_app.wire import WireError, http, websocket

log = logging.getLogger("tracker_app")

UNAVAILABLE = "storage unavailable, try again later"
NOT_ALLOWED = "torrent not allowed on this tracker"
TAKEN = "peer_id already in use by another connection in this swarm"
NO_OFFER = "no peer with that to_peer_id and offer_id is waiting for an answer"
INTERNAL = "internal tracker error"
RATE_LIMITED = "too many announces on this connection: at most {} per interval, slow down"
TOO_MANY_SWARMS = "too many torrents on this connection: at most {} at once"


@dataclass
class Tracker:
    settings: Settings
    store: SwarmStore
    relay: Relay
    connections: Connections
    allowlist: Allowlist
    metrics: Metrics
    http_clients: HttpClients
    http_rate: AddressRate

    @property
    def replica(self) -> str:
        return self.relay.replica

    def clients(self) -> Counter[str]:
        """This replica's peers by client: its sockets' and the HTTP peers it served."""
        return self.connections.clients() + self.http_clients.count()

    def deliver(self, delivery: Delivery) -> None:
        """Queue a relayed frame on one of this replica's sockets, without waiting for it to be read."""
        conn = self.connections.get(delivery.route.conn)
        if conn is None:
            return
        if delivery.origin is not None:
            conn.expect_answer(delivery.origin, self.settings.pending_offers)
        conn.send(delivery.text)

    async def on_frame(self, conn: Connection, frame: str | bytes) -> None:
        """Handle one WebSocket frame; every failure becomes a ``failure reason`` reply."""
        work = self.receive(conn, frame)
        if work is not None:
            await work

    def receive(self, conn: Connection, frame: str | bytes) -> Coroutine[Any, Any, None] | None:
        """Start handling one frame: what is left to do once it waits on the store, or None when done.

        An answer (2.5 of every 3.5 frames under webtorrent's load) needs only the
        relay, so it is handled here and now, with no task; an announce or a scrape
        waits on the store, and the caller runs what is returned as a task.
        """
        message = None
        try:
            message = websocket.parse(frame, self.settings.max_offers)
            if isinstance(message, websocket.Answer):
                start_eagerly(self._replying(conn, message, self._answer(conn, message)))
                return None
            if not conn.allow(self.settings.max_announces, self.settings.interval):
                raise WireError(RATE_LIMITED.format(self.settings.max_announces))
            if isinstance(message, websocket.Announce):
                return self._replying(conn, message, self._announce(conn, message))
            return self._replying(conn, message, self._scrape(conn, message))
        except Exception as exc:  # noqa: BLE001 - the socket must survive anything
            conn.send(websocket.failure(self._reason(exc), *_context(message, exc)))
            return None

    async def _replying(self, conn: Connection, message: websocket.Message, work: Awaitable[None]) -> None:
        """Do ``work``; any failure becomes a ``failure reason`` reply."""
        try:
            await work
        except Exception as exc:  # noqa: BLE001 - the socket must survive anything
            conn.send(websocket.failure(self._reason(exc), *_context(message, exc)))

    def on_open(self, conn: Connection) -> None:
        """A socket that :func:`~tracker_app.admission.admit` let in joins this replica's connections."""
        self.connections.open(conn)
        self.metrics.connections.inc()

    async def on_close(self, conn: Connection) -> None:
        """A closed socket leaves every swarm it joined."""
        self.metrics.connections.dec()
        self.connections.close(conn)
        route = SocketId(self.replica, conn.conn_id).encode()
        memberships = [
            (info_hash, PeerEntry(Kind.WEBSOCKET, peer_id, route, False)) for info_hash, peer_id in conn.joined
        ]
        conn.joined.clear()
        try:
            await self.store.leave(memberships)
        except StoreUnavailable as exc:
            log.warning("could not remove a closed socket's %d peers: %s", len(memberships), exc)

    async def _announce(self, conn: Connection, msg: websocket.Announce) -> None:
        self._check_allowed(msg.info_hash, websocket.ANNOUNCE)
        route = SocketId(self.replica, conn.conn_id)
        since = conn.claims.get(msg.peer_id)
        if since is None:
            since = conn.claims[msg.peer_id] = int(time.time() * 1000)
        claim = Claim(since, hashlib.sha1(msg.key.encode()).hexdigest()[:16] if msg.key else "")
        peer = PeerEntry(Kind.WEBSOCKET, msg.peer_id, route.encode(), msg.seeder, claim.encode())
        membership = (msg.info_hash, msg.peer_id)
        if (
            msg.event is not Event.STOPPED
            and membership not in conn.joined
            and len(conn.joined) >= self.settings.max_swarms_per_socket
        ):
            raise WireError(
                TOO_MANY_SWARMS.format(self.settings.max_swarms_per_socket), websocket.ANNOUNCE, msg.info_hash
            )
        # To the store, a socket's first announce in a swarm is its start, whatever the client says.
        event = Event.STARTED if msg.event is Event.UPDATE and membership not in conn.joined else msg.event
        result = await self.store.announce(msg.info_hash, peer, event, len(msg.offers))
        self.metrics.websocket_announces.inc()
        if msg.event is Event.STOPPED:
            conn.joined.pop(membership, None)
        else:
            conn.joined[membership] = time.monotonic()
        conn.send(websocket.announce_reply(msg.info_hash, result.complete, result.incomplete, self.settings.interval))
        deliveries = [
            Delivery(
                SocketId.decode(value),
                websocket.offer_message(msg.info_hash, msg.peer_id, offer),
                OfferOrigin(msg.peer_id, offer.offer_id, route),
            )
            for (_, value), offer in zip(result.peers, msg.offers, strict=False)  # fewer peers than offers
        ]
        if deliveries:
            await self.relay.send(deliveries)
            self.metrics.offers.inc(len(deliveries))

    async def _answer(self, conn: Connection, msg: websocket.Answer) -> None:
        route = conn.take_offer(msg.to_peer_id, msg.offer_id)
        if route is None:
            raise WireError(NO_OFFER, websocket.ANNOUNCE, msg.info_hash)
        await self.relay.send([Delivery(route, websocket.answer_message(msg))])
        self.metrics.answers.inc()

    async def _scrape(self, conn: Connection, msg: websocket.Scrape) -> None:
        if msg.info_hashes is not None and len(msg.info_hashes) > self.settings.max_scrape:
            raise WireError(
                f"too many info_hash values: at most {self.settings.max_scrape} per scrape", websocket.SCRAPE
            )
        files = await self.store.scrape(msg.info_hashes, self.settings.max_scrape)
        self.metrics.websocket_scrapes.inc()
        conn.send(websocket.scrape_reply(files, self.settings.interval))

    async def http_announce(self, query: bytes, ip: str) -> bytes:
        """A bencoded reply to an HTTP announce from ``ip``."""
        return await self._bencoded(self._http_announce(query, ip))

    async def http_scrape(self, query: bytes) -> bytes:
        return await self._bencoded(self._http_scrape(query))

    async def _http_announce(self, query: bytes, ip: str) -> bytes:
        msg = http.parse_announce(query, default_numwant=50, max_numwant=self.settings.max_numwant)
        self._check_allowed(msg.info_hash, "announce")
        peer = PeerEntry(Kind.HTTP, http.compact_address(ip, msg.port), msg.peer_id, msg.seeder)
        result = await self.store.announce(msg.info_hash, peer, msg.event, msg.numwant)
        if msg.event is Event.STOPPED:
            self.http_clients.left(msg.info_hash, peer.key)
        else:
            self.http_clients.seen(msg.info_hash, peer.key, msg.peer_id)
        self.metrics.announces.labels("http").inc()
        return http.announce_response(result.peers, result.complete, result.incomplete, self.settings.interval, msg)

    async def _http_scrape(self, query: bytes) -> bytes:
        files = await self.store.scrape(http.parse_scrape(query, self.settings.max_scrape), self.settings.max_scrape)
        self.metrics.scrapes.labels("http").inc()
        return http.scrape_response(files, self.settings.interval)

    async def _bencoded(self, reply: Awaitable[bytes]) -> bytes:
        """The reply, or a bencoded ``failure reason``: an HTTP request never crashes."""
        try:
            return await reply
        except Exception as exc:  # noqa: BLE001 - reply, never crash
            return http.failure(self._reason(exc))

    def _check_allowed(self, info_hash: bytes, action: str) -> None:
        if not self.allowlist.allows(info_hash):
            raise WireError(NOT_ALLOWED, action, info_hash)

    def _reason(self, exc: Exception) -> str:
        """The ``failure reason`` to give a client, counted by kind."""
        if isinstance(exc, WireError):
            self.metrics.failures.labels("bad_request").inc()
            return exc.reason
        if isinstance(exc, PeerIdTaken):
            self.metrics.failures.labels("peer_id_taken").inc()
            return TAKEN
        if isinstance(exc, StoreUnavailable | RelayUnavailable):
            self.metrics.failures.labels("storage").inc()
            log.warning("%s", exc)
            return UNAVAILABLE
        self.metrics.failures.labels("internal").inc()
        log.exception("unexpected error")
        return INTERNAL


def _context(message: websocket.Message | None, exc: Exception) -> tuple[str | None, bytes | None]:
    """The action and info_hash to echo in a failure: what the error knows, else what the message says."""
    action, info_hash = (exc.action, exc.info_hash) if isinstance(exc, WireError) else (None, None)
    if isinstance(message, websocket.Announce | websocket.Answer):
        return action or websocket.ANNOUNCE, info_hash or message.info_hash
    if isinstance(message, websocket.Scrape):
        return action or websocket.SCRAPE, info_hash
    return action, info_hash
