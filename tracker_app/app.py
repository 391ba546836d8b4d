"""The ASGI application: one tracker replica."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route

from tracker_app.allowlist import Allowlist
from tracker_app.clients import HttpClients
from tracker_app.config import Settings
from tracker_app.connections import Connections
from tracker_app.endpoints import http, status, turn
from tracker_app.endpoints.websocket import TrackerSockets
from tracker_app.metrics import Metrics
from tracker_app.peers import Kind, PeerEntry, SocketId
from tracker_app.ratelimit import AddressRate
from tracker_app.relay import MemoryRelay, RedisRelay, Relay
from tracker_app.store import MemoryStore, RedisStore, StoreUnavailable, SwarmStore
from tracker_app.store.redis import BEAT, connect
from tracker_app.supervisor import supervise
from tracker_app.tracker import Tracker
from tracker_app.transport.runtime import quiet_connections, settle_gc
from tracker_app.transport.sockets import Cork

log = logging.getLogger("tracker_app")


def create_app(settings: Settings | None = None) -> Starlette:
    """Build a replica; with no settings they come from the environment."""
    settings = settings or Settings.from_env()
    allowlist = Allowlist(settings.allowlist)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        store, relay = _backends(settings, replica=secrets.token_hex(4))
        tracker = Tracker(
            settings,
            store,
            relay,
            Connections(settings.max_connections_per_ip),
            allowlist,
            Metrics(),
            HttpClients(settings.peer_ttl),
            AddressRate(settings.max_http_announces_per_ip, settings.interval),
        )
        await relay.start(tracker.deliver)
        app.state.tracker = tracker
        tasks = [
            supervise("housekeeping", lambda: _housekeeping(tracker)),
            supervise("heartbeat", lambda: _heartbeat(tracker)),
            supervise("keepalive", lambda: _keepalive(tracker)),
        ]
        log.info("replica %s ready (%s state)", relay.replica, "Redis" if settings.redis_url else "in-process")
        quiet_connections()
        settle_gc()
        try:
            # uvicorn hands this state to each connection: tracker sockets need no ASGI.
            yield {"tracker": tracker, "cork": Cork()}
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await relay.close()
            await store.close()

    routes = [
        Route("/", status.home),
        Route("/announce", http.announce),
        Route("/scrape", http.scrape),
        Route("/stats", status.stats_page),
        Route("/stats.json", status.stats_json),
        Route("/metrics", status.metrics),
        Route("/health", status.health),
        Route("/turn-credentials", turn.turn_credentials),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(TrackerSockets)])


def _backends(settings: Settings, replica: str) -> tuple[SwarmStore, Relay]:
    """Redis state and relay when ``REDIS_URL`` is set, else in-process ones."""
    if not settings.redis_url:
        return MemoryStore(settings.peer_ttl), MemoryRelay(replica)
    store = RedisStore(connect(settings.redis_url, settings.redis_cluster), settings.peer_ttl)
    return store, RedisRelay(replica, settings.redis_url, settings.redis_cluster)


async def _housekeeping(tracker: Tracker) -> None:
    """Forget expired memberships, share this replica's client counts, sweep expired peers out of the totals."""
    period = min(5.0, tracker.settings.interval / 2)
    while True:
        await asyncio.sleep(period)
        pruned = tracker.connections.prune(tracker.store.peer_ttl)
        expired = [
            (info_hash, PeerEntry(Kind.WEBSOCKET, peer_id, SocketId(tracker.replica, conn.conn_id).encode(), False))
            for conn, info_hash, peer_id in pruned
        ]
        try:
            await tracker.store.leave(expired)  # gone from the swarms already; this clears the replica's list
            await tracker.store.share_clients(tracker.replica, tracker.clients())
            await tracker.store.sweep()
        except StoreUnavailable as exc:
            log.warning("housekeeping skipped: %s", exc)


async def _keepalive(tracker: Tracker) -> None:
    """Every ping interval: ping each socket, and close those that sent nothing since the last ping.

    One task per replica, not a timer per socket; a socket that was closed but still holds
    unsent bytes (its peer stopped reading) is aborted here too.
    """
    while True:
        await asyncio.sleep(tracker.settings.ping_interval)
        for conn in tracker.connections:
            conn.keepalive()


async def _heartbeat(tracker: Tracker) -> None:
    """Tell other replicas this one is alive, and clear out the peers of those that died."""
    while True:
        try:
            await tracker.store.heartbeat(tracker.replica)
        except StoreUnavailable as exc:
            log.debug("heartbeat skipped: %s", exc)
        await asyncio.sleep(BEAT)
